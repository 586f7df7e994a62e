import type { Browser, BrowserContext, Page } from 'playwright-core';
import { assertBuildIsFresh } from '../faults/support/built.js';
import { launchChromium } from '../support/chromium.js';
import { getPresence } from '../support/presence.js';
import { publishTo } from '../support/publish.js';
import { type ServiceProcess, startService } from '../support/service-process.js';
import { signToken } from '../support/tokens.js';
import { waitFor } from '../support/wait-for.js';

const JWT_SECRET = 'steering-test-secret-steering-test-secret';
const PUBLISH_TOKEN = 'steering-publish-token';
const PAGE_PATH = '/steering-test-page';

/** A page of the service's origin whose `EventSource` records what it sees. */
const PAGE = `<!doctype html>
<title>sse-bus steering test page</title>
<script>
  window.listen = (url) => {
    const seen = (window.seen = { events: [], errors: 0 });
    const source = (window.source = new EventSource(url));
    for (const type of ['connected', 'message', 'disconnect']) {
      source.addEventListener(type, ({ data }) => seen.events.push({ type, data: JSON.parse(data) }));
    }
    source.onerror = () => seen.errors++;
  };
</script>`;

interface Listener {
  listen(url: string): void;
}

interface Seen {
  events: { type: string; data: unknown }[];
  errors: number;
}

describe('a client steered from the server, in Chromium', () => {
  let service: ServiceProcess;
  let browser: Browser;
  let context: BrowserContext;
  beforeAll(async () => {
    assertBuildIsFresh();
    service = await startService({
      SSE_JWT_SECRET: JWT_SECRET,
      SSE_PUBLISH_TOKEN: PUBLISH_TOKEN,
      SSE_MAX_STREAMS_PER_CLIENT: '5',
      SSE_RETRY_MS: '100',
      LOG_LEVEL: 'warn',
    });
    browser = await launchChromium();
  });
  beforeEach(async () => {
    context = await browser.newContext();
    await context.route(`**${PAGE_PATH}`, (route) =>
      route.fulfill({ contentType: 'text/html', body: PAGE }),
    );
  });
  afterEach(() => context.close());
  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  /** A tab whose EventSource streams as `sub`; resolves with the statuses the server answered. */
  async function tab(sub: string): Promise<{ page: Page; statuses: number[] }> {
    const page = await context.newPage();
    const statuses: number[] = [];
    page.on('response', (response) => {
      if (new URL(response.url()).pathname === '/sse/msg') statuses.push(response.status());
    });
    await page.goto(`${service.url}${PAGE_PATH}`);
    const token = await signToken(JWT_SECRET, sub);
    const url = `/sse/msg?token=${token}`;
    await page.evaluate((url) => (globalThis as unknown as Listener).listen(url), url);
    return { page, statuses };
  }
  const seen = (page: Page) => page.evaluate(() => (globalThis as unknown as { seen: Seen }).seen);
  const readyState = (page: Page) =>
    page.evaluate(() => (globalThis as unknown as { source: EventSource }).source.readyState);
  const streamsOf = async (sub: string) =>
    (await getPresence(service.url, `?clientId=${sub}`, PUBLISH_TOKEN)).body.streams as number;

  it('receives disconnect, then stays closed: its reconnect during the block gets 204 and no stream', async () => {
    const { page, statuses } = await tab('ivan');
    await waitFor(async () => (await seen(page)).events.length > 0, 'connected');
    expect(await streamsOf('ivan')).toBe(1);

    const answer = await fetch(
      `${service.url}/sse/clients/ivan/streams?blockMs=600000&reason=banned`,
      { method: 'DELETE', headers: { authorization: `Bearer ${PUBLISH_TOKEN}` } },
    );
    expect(answer.status).toBe(202);

    // CLOSED is for good: an EventSource in it never connects again.
    await waitFor(async () => (await readyState(page)) === 2, 'the EventSource to close');
    expect((await seen(page)).events.map(({ type, data }) => [type, data])).toEqual([
      ['connected', { clientId: 'ivan' }],
      ['disconnect', { reason: 'banned' }],
    ]);
    expect(statuses).toEqual([200, 204]);
    expect(await streamsOf('ivan')).toBe(0);
  });

  it("refuses a user's sixth tab with 429 while the five stay open", async () => {
    const five: Page[] = [];
    for (let i = 0; i < 5; i++) {
      const { page } = await tab('judy');
      await waitFor(async () => (await seen(page)).events.length > 0, `tab ${i + 1} connected`);
      five.push(page);
    }
    const sixth = await tab('judy');
    await waitFor(async () => (await readyState(sixth.page)) === 2, 'the sixth to be refused');
    expect(sixth.statuses).toEqual([429]);
    expect((await seen(sixth.page)).events).toEqual([]);

    await publishTo(service.url, PUBLISH_TOKEN, { data: { to: 'judy' }, clientId: 'judy' });
    for (const page of five) {
      await waitFor(
        async () => (await seen(page)).events.some(({ type }) => type === 'message'),
        'the message in each of the five',
      );
      expect(await readyState(page)).toBe(1);
    }
    expect(await streamsOf('judy')).toBe(5);
  });
});
