import type { Browser, BrowserContext } from 'playwright-core';
import { assertBuildIsFresh } from '../faults/support/built.js';
import { launchChromium } from '../support/chromium.js';
import { ClientTab, type TabOptions } from '../support/client-tab.js';
import { InstancePair } from '../support/instance-pair.js';
import { getPresence } from '../support/presence.js';
import { publishTo } from '../support/publish.js';
import { type ServiceProcess, startService } from '../support/service-process.js';
import { signToken } from '../support/tokens.js';
import { waitFor } from '../support/wait-for.js';

const JWT_SECRET = 'client-test-secret-client-test-secret';
const PUBLISH_TOKEN = 'client-publish-token';
const TABS = 4;

/** The URLs of the requests the service logged (with `?token=` values redacted, not dropped). */
function loggedUrls(service: ServiceProcess): string[] {
  return service
    .output()
    .split('\n')
    .filter((line) => line.includes('"incoming request"'))
    .map((line) => (JSON.parse(line) as { req: { url: string } }).req.url);
}

describe('sse-bus/client, in Chromium, on one embedded instance', () => {
  let service: ServiceProcess;
  let browser: Browser;
  let context: BrowserContext;
  beforeAll(async () => {
    assertBuildIsFresh();
    service = await startService({
      SSE_JWT_SECRET: JWT_SECRET,
      SSE_PUBLISH_TOKEN: PUBLISH_TOKEN,
      SSE_RETRY_MS: '100',
      LOG_LEVEL: 'info',
    });
    browser = await launchChromium();
  });
  beforeEach(async () => {
    context = await browser.newContext();
  });
  afterEach(() => context.close());
  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  /** `count` tabs of one context on the stream of `sub`, opened one after the other. */
  async function tabsOf(
    sub: string,
    count: number,
    options: TabOptions = {},
  ): Promise<ClientTab[]> {
    const token = await signToken(JWT_SECRET, sub);
    const tabs: ClientTab[] = [];
    for (let i = 0; i < count; i++) {
      tabs.push(await ClientTab.open(context, service.url, '/sse/msg', { token, ...options }));
      await tabs[i].waitForState('open');
    }
    return tabs;
  }

  const streamsOf = async (sub: string) =>
    (await getPresence(service.url, `?clientId=${sub}`, PUBLISH_TOKEN)).body.streams;

  it('makes one stream of the tabs of a browser, which hands each tab a message once, with the client id', async () => {
    const tabs = await tabsOf('alice', TABS);
    expect(await streamsOf('alice')).toBe(1);
    expect(tabs.filter((tab) => tab.streamRequests.length > 0)).toHaveLength(1);

    const first = await publishTo(service.url, PUBLISH_TOKEN, {
      data: { n: 1 },
      clientId: 'alice',
    });
    await publishTo(service.url, PUBLISH_TOKEN, { data: { n: 2 }, clientId: 'alice' });
    for (const tab of tabs) {
      await tab.waitForMessages(2);
      const seen = await tab.seen();
      expect(seen.messages).toEqual([
        { data: { n: 1 }, id: first, event: 'message' },
        { data: { n: 2 }, id: expect.any(String), event: 'message' },
      ]);
      expect(seen.connected).toEqual([
        { data: { clientId: 'alice' }, id: expect.any(String), event: 'connected' },
      ]);
      expect(seen.states).toEqual(['connecting', 'open']);
    }
    expect(await streamsOf('alice')).toBe(1);
  });

  it('goes on in the other tabs when the tab that holds the stream closes, with every message published at 20/s once and in order', async () => {
    const tabs = await tabsOf('bob', TABS);
    const holder = tabs.find((tab) => tab.streamRequests.length > 0)!;
    const others = tabs.filter((tab) => tab !== holder);
    const total = 60;
    let published = 0;
    const publisher = (async () => {
      for (; published < total; published++) {
        await publishTo(service.url, PUBLISH_TOKEN, { data: published + 1, clientId: 'bob' });
        // Pacing only: 20 messages a second, before, during and after the takeover.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await others[0].waitForMessages(10);
    await holder.page.close();
    await publisher;

    const expected = Array.from({ length: total }, (_, n) => n + 1);
    for (const tab of others) await tab.waitForMessages(total);
    // A late duplicate would come before it.
    await publishTo(service.url, PUBLISH_TOKEN, { data: 'marker', clientId: 'bob' });
    for (const tab of others) {
      await tab.waitForMessages(total + 1);
      expect(await tab.data()).toEqual([...expected, 'marker']);
      expect((await tab.seen()).states).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    }
    expect(others.filter((tab) => tab.streamRequests.length > 0)).toHaveLength(1);
    await waitFor(async () => (await streamsOf('bob')) === 1, 'one stream again');
  });

  it('hands the stream on when the tab that holds it calls close(), and gives that tab nothing more', async () => {
    const tabs = await tabsOf('grace', 2);
    const [holder, other] = tabs[0].streamRequests.length > 0 ? tabs : [...tabs].reverse();
    await holder.close();
    await holder.waitForState('closed');
    await waitFor(
      async () => (await other.seen()).states.join() === 'connecting,open,reconnecting,open',
      'the other tab open on a stream of its own',
    );
    await publishTo(service.url, PUBLISH_TOKEN, { data: 'after', clientId: 'grace' });
    await other.waitForMessages(1);
    expect(await other.data()).toEqual(['after']);
    expect(other.streamRequests).toHaveLength(1);
    expect(await holder.seen()).toMatchObject({
      states: ['connecting', 'open', 'closed'],
      messages: [],
    });
    await waitFor(async () => (await streamsOf('grace')) === 1, 'one stream again');
  });

  it('sends the token in the Authorization header, never in a URL', async () => {
    const token = await signToken(JWT_SECRET, 'carol');
    const tab = await ClientTab.open(context, service.url, '/sse/msg', { tokenFunction: token });
    await tab.waitForState('open');
    const [request] = tab.streamRequests;
    expect(await request.allHeaders()).toMatchObject({ authorization: `Bearer ${token}` });
    for (const url of loggedUrls(service)) expect(url).not.toMatch(/token/i);
    expect(loggedUrls(service)).toContain('/sse/msg');
    expect(tab.streamRequests.map((r) => r.url()).join()).not.toContain(token);
  });

  it('closes for good on a refusal, telling the app why', async () => {
    const tab = await ClientTab.open(context, service.url, '/sse/msg', { token: 'not-a-jwt' });
    await tab.waitForState('closed');
    const seen = await tab.seen();
    expect(seen.states).toEqual(['connecting', 'closed']);
    expect(seen.errors).toEqual([{ message: 'refused: HTTP 401', status: 401 }]);
    expect(tab.streamRequests).toHaveLength(1);
  });

  it('stops for good on HTTP 204, as EventSource does', async () => {
    let asked = 0;
    await context.route('**/sse/msg?none', (route) => {
      asked++;
      return route.fulfill({ status: 204 });
    });
    const tab = await ClientTab.open(context, service.url, '/sse/msg?none');
    await tab.waitForState('closed');
    const seen = await tab.seen();
    expect(seen.states).toEqual(['connecting', 'closed']);
    expect(seen.errors).toEqual([]);
    expect(asked).toBe(1);
  });

  it.each<[string, string, TabOptions, () => unknown]>([
    ['with shareTabs: false', 'dave', { shareTabs: false }, () => undefined],
    [
      'without Web Locks',
      'erin',
      {},
      () => context.addInitScript('delete Navigator.prototype.locks'),
    ],
  ])('makes a stream per tab %s', async (_, sub, options, setUp) => {
    await setUp();
    const tabs = await tabsOf(sub, 2, options);
    expect(await streamsOf(sub)).toBe(2);
    await publishTo(service.url, PUBLISH_TOKEN, { data: 'to both', clientId: sub });
    for (const tab of tabs) {
      await tab.waitForMessages(1);
      expect(await tab.data()).toEqual(['to both']);
    }
  });
});

describe('sse-bus/client, in Chromium, through an instance killed and started again', () => {
  let instances: InstancePair;
  let browser: Browser;
  beforeAll(async () => {
    assertBuildIsFresh();
    instances = await InstancePair.start('client-resume', {
      SSE_JWT_SECRET: JWT_SECRET,
      SSE_PUBLISH_TOKEN: PUBLISH_TOKEN,
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await instances?.stop();
  });

  it('resumes from the last id it saw, in a hidden tab, asking for the token again: what was published meanwhile arrives once and in order', async () => {
    const token = await signToken(JWT_SECRET, 'frank');
    const context = await browser.newContext();
    const { b } = instances;
    const tab = await ClientTab.open(context, instances.aUrl, '/sse/msg', {
      tokenFunction: token,
    });
    await tab.waitForState('open');
    const lastBefore = await publishTo(b.url, PUBLISH_TOKEN, { data: 0, clientId: 'frank' });
    await tab.waitForMessages(1);
    // What a tab put in the background is told; fetch-event-source closes its stream on it.
    await tab.page.evaluate(`
      Object.defineProperty(document, 'visibilityState', { value: 'hidden' });
      Object.defineProperty(document, 'hidden', { value: true });
      document.dispatchEvent(new Event('visibilitychange'));
    `);

    expect(await instances.killA()).toBeNull();
    await tab.waitForState('reconnecting');
    const missed = [1, 2, 3, 4, 5];
    for (const n of missed) await publishTo(b.url, PUBLISH_TOKEN, { data: n, clientId: 'frank' });
    await instances.restartA();
    await tab.waitForState('open');
    await publishTo(b.url, PUBLISH_TOKEN, { data: 6, clientId: 'frank' });
    await tab.waitForMessages(7);

    const seen = await tab.seen();
    expect(seen.messages.map((message) => message.data)).toEqual([0, ...missed, 6]);
    expect(seen.states).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    const [first, ...again] = tab.streamRequests;
    expect(await first.headerValue('last-event-id')).toBeNull();
    expect(again.length).toBeGreaterThan(0);
    for (const request of again) {
      expect(await request.headerValue('last-event-id')).toBe(lastBefore);
      expect(await request.headerValue('authorization')).toBe(`Bearer ${token}`);
    }
    // Once for each request, and once more to name the stream the tabs share.
    expect(seen.tokenCalls).toBe(tab.streamRequests.length + 1);
    await context.close();
  });
});
