import type { Browser, Page } from 'playwright-core';
import { assertBuildIsFresh } from '../faults/support/built.js';
import { launchChromium } from '../support/chromium.js';
import { publishTo } from '../support/publish.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
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
  let redis: RedisServer;
  let a: ServiceProcess | undefined;
  let b: ServiceProcess;
  let browser: Browser;
  let env: Record<string, string>;
  beforeAll(async () => {
    assertBuildIsFresh();
    redis = await startRedis();
    env = {
      REDIS_URL: redis.url,
      SSE_REDIS_PREFIX: 'demo-page',
      SSE_PUBLISH_TOKEN: PUBLISH_TOKEN,
      // The browser comes back this soon after losing its stream.
      SSE_RETRY_MS: '100',
      LOG_LEVEL: 'warn',
    };
    a = await startService(env);
    b = await startService(env);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
    await redis?.stop();
  });

  it('publishes from its form, and through a killed and restarted instance shows what was published meanwhile, once each, in order', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const refused: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
    });
    await page.goto(a!.url);
    await page.waitForSelector('#state[data-state="open"]', { timeout: WAIT_MS });
    await waitFor(
      async () => (await page.locator('#client-id').textContent()) !== '–',
      'the client id',
    );

    // Markup in the data stays text.
    const first = { n: 0, text: '<img src=x onerror=alert(1)> from the form' };
    await page.fill('#data', JSON.stringify(first));
    await page.fill('#token', PUBLISH_TOKEN);
    await page.click('#publish-form button');
    await page.waitForSelector('#publish-result.ok', { timeout: WAIT_MS });
    await waitFor(async () => (await shown(page)).messages.length === 1, 'the form message');
    expect((await shown(page)).messages).toEqual([JSON.stringify(first)]);
    expect(await page.locator('#messages img').count()).toBe(0);
    const idBeforeKill = (await shown(page)).lastEventId;
    expect(idBeforeKill).toMatch(/^\S+\.\d+-\d+$/);

    const port = new URL(a!.url).port;
    expect(await a!.stop('SIGKILL')).toBeNull();
    a = undefined;
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
      a = await startService({ ...env, PORT: port });
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
});
