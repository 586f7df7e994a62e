import type { Browser, Page } from 'playwright-core';
import { assertBuildIsFresh } from '../faults/support/built.js';
import { launchChromium } from '../support/chromium.js';
import { InstancePair } from '../support/instance-pair.js';
import { publishTo } from '../support/publish.js';
import { type ServiceProcess, startService } from '../support/service-process.js';
import { waitFor } from '../support/wait-for.js';

const PUBLISH_TOKEN = 'demo-publish-token';
const WAIT_MS = 20_000;
/** Messages published while instance A is away, at most: the page keeps the last 100. */
const MAX_WHILE_AWAY = 80;

/** What the page shows, as the test reads it from the DOM. */
async function shown(page: Page) {
  const states = await page
    .locator('#state-log li')
    .evaluateAll((lines) => lines.map((line) => line.getAttribute('data-state')));
  // Newest first on the page; oldest first here.
  const messages = await page.locator('#messages li[data-event="message"] .data').allTextContents();
  const lastEventId = await page.locator('#last-event-id').textContent();
  return { states, messages: messages.reverse(), lastEventId };
}

describe('the demo page, in Chromium', () => {
  let instances: InstancePair;
  let b: ServiceProcess;
  let browser: Browser;
  beforeAll(async () => {
    assertBuildIsFresh();
    instances = await InstancePair.start('demo-page', { SSE_PUBLISH_TOKEN: PUBLISH_TOKEN });
    b = instances.b;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await instances?.stop();
  });

  /** Opens the page of `url`, once its stream is open; `refused` gets what CSP refused. */
  async function openPage(url: string, refused: string[] = []): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
    });
    await page.goto(url);
    await page.waitForSelector('#state[data-state="open"]', { timeout: WAIT_MS });
    await waitFor(
      async () => (await page.locator('#client-id').textContent()) !== '–',
      'the client id',
    );
    return page;
  }

  /** Fills in the publish form with `fields` (by input id), sends it, and resolves to what it said. */
  async function publishFrom(page: Page, fields: Record<string, string>) {
    for (const [id, value] of Object.entries(fields)) await page.fill(`#${id}`, value);
    await page.click('#publish-form button');
    const result = page.locator('#publish-result:not(.pending)');
    await result.waitFor({ timeout: WAIT_MS });
    return {
      ok: await result.evaluate((output) => output.className === 'ok'),
      text: await result.textContent(),
    };
  }

  it('publishes from its form, and through a killed and restarted instance shows what was published meanwhile, once each, in order', async () => {
    const refused: string[] = [];
    const page = await openPage(instances.aUrl, refused);
    // Its service has a publish token: nothing to say before Publish.
    expect(await page.locator('#publish-result').textContent()).toBe('');

    // Markup in the data stays text.
    const first = { n: 0, text: '<img src=x onerror=alert(1)> from the form' };
    expect(await publishFrom(page, { data: JSON.stringify(first), token: PUBLISH_TOKEN })).toEqual({
      ok: true,
      text: expect.stringMatching(/^Published \S+/),
    });
    await waitFor(async () => (await shown(page)).messages.length === 1, 'the form message');
    expect((await shown(page)).messages).toEqual([JSON.stringify(first)]);
    expect(await page.locator('#messages img').count()).toBe(0);
    const idBeforeKill = (await shown(page)).lastEventId;
    expect(idBeforeKill).toMatch(/^\S+\.\d+-\d+$/);

    expect(await instances.killA()).toBeNull();
    let published = 0;
    let publishing = true;
    // Through B, on Redis, the whole time A is away and until the page is back.
    const publisher = (async () => {
      while (publishing && published < MAX_WHILE_AWAY) {
        await publishTo(b.url, PUBLISH_TOKEN, {
          data: { n: published + 1, text: 'published through instance B' },
        });
        published++;
        // Pacing only: spreads the messages over A's absence.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      await page.waitForSelector('#state[data-state="reconnecting"]', { timeout: WAIT_MS });
      await instances.restartA();
      await page.waitForSelector('#state[data-state="open"]', { timeout: WAIT_MS });
    } finally {
      publishing = false;
      await publisher;
    }
    const last = { n: published + 1, text: 'the last one' };
    await publishTo(b.url, PUBLISH_TOKEN, { data: last });
    await waitFor(
      async () => (await shown(page)).messages.includes(JSON.stringify(last)),
      'the last message on the page',
      WAIT_MS,
    );

    const { states, messages, lastEventId } = await shown(page);
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    const numbers = messages.map((data) => (JSON.parse(data) as { n: number }).n);
    expect(numbers).toEqual(Array.from({ length: published + 2 }, (_, n) => n));
    expect(lastEventId).not.toBe(idBeforeKill);
    expect(refused).toEqual([]);

    if (process.env.DEMO_SCREENSHOT) {
      await page.screenshot({ path: process.env.DEMO_SCREENSHOT });
    }
  });

  it('subscribes to topics, listens for the named events it publishes, keeps the token in the tab, and shows what is wrong', async () => {
    const page = await openPage(b.url);
    await page.fill('#topics', 'orders');
    await page.click('#subscribe-form button');
    await waitFor(
      async () => (await shown(page)).states.join() === 'connecting,open,connecting,open',
      'the stream again, on the topic',
      WAIT_MS,
    );
    const order = JSON.stringify({ order: 1 });
    const fields = { data: order, event: 'shipped', topic: 'orders', token: PUBLISH_TOKEN };
    expect((await publishFrom(page, fields)).ok).toBe(true);
    const shipped = page.locator('#messages li[data-event="shipped"] .data');
    await shipped.waitFor({ timeout: WAIT_MS });
    expect(await shipped.textContent()).toBe(order);
    expect(await page.inputValue('#events')).toBe('shipped');

    await publishTo(b.url, PUBLISH_TOKEN, { data: 'elsewhere', topic: 'other' });
    await publishTo(b.url, PUBLISH_TOKEN, { data: 'to everybody' });
    await waitFor(
      async () => (await shown(page)).messages.includes('"to everybody"'),
      'the broadcast',
      WAIT_MS,
    );
    expect((await shown(page)).messages).toEqual(['"to everybody"']);

    expect(await publishFrom(page, { event: 'connected' })).toEqual({
      ok: false,
      text: '400: event "connected" is reserved by the stream',
    });
    expect(await page.inputValue('#events')).toBe('shipped');
    expect(await publishFrom(page, { event: '', data: '{oops' })).toEqual({
      ok: false,
      text: expect.stringMatching(/^Data is not JSON: /),
    });
    expect(await publishFrom(page, { data: '1', token: 'wrong' })).toEqual({
      ok: false,
      text: '401: A valid publish token is required: Authorization: Bearer <token>',
    });
    await page.reload();
    expect(await page.inputValue('#token')).toBe('wrong');
  });

  it('started without a publish token, says how to set one, on opening and on Publish', async () => {
    const tokenless = await startService({ SSE_PUBLISH_TOKEN: '', LOG_LEVEL: 'warn' });
    try {
      const page = await openPage(tokenless.url);
      const instruction = expect.stringMatching(
        /^Publishing is off: .*SSE_PUBLISH_TOKEN=\S+ npm start, then type the same token into Publish token/,
      );
      const result = page.locator('#publish-result');
      expect({
        kind: await result.getAttribute('class'),
        text: await result.textContent(),
      }).toEqual({ kind: 'error', text: instruction });

      // Something else in its place first, so that the instruction below is Publish's own.
      expect((await publishFrom(page, { data: '{oops' })).text).toMatch(/^Data is not JSON: /);
      const answer = page.waitForResponse('**/sse/publish');
      expect(await publishFrom(page, { data: '{"first": true}', token: 'a guess' })).toEqual({
        ok: false,
        text: instruction,
      });
      expect((await answer).status()).toBe(404);
      expect((await shown(page)).messages).toEqual([]);
    } finally {
      await tokenless.stop();
    }
  });

  it('shows busy when its instance is full', async () => {
    const full = await startService({ SSE_MAX_CONNECTIONS: '1', LOG_LEVEL: 'warn' });
    try {
      await openPage(full.url);
      const turnedAway = await browser.newPage();
      await turnedAway.goto(full.url);
      const busy = turnedAway.locator('#messages li[data-event="busy"] .data').first();
      await busy.waitFor({ timeout: WAIT_MS });
      expect(JSON.parse((await busy.textContent())!)).toEqual({ retryMs: expect.any(Number) });
    } finally {
      await full.stop();
    }
  });
});
