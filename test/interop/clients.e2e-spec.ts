import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { assertBuildIsFresh } from '../faults/support/built.js';
import { launchChromium } from '../support/chromium.js';
import { getPresence, streamOf } from '../support/presence.js';
import { scrape } from '../support/prometheus.js';
import { publishTo } from '../support/publish.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { type ServiceProcess, startService } from '../support/service-process.js';
import type { RawSseClient } from '../support/sse-client.js';
import { TcpRelay } from '../support/tcp-relay.js';
import { signToken } from '../support/tokens.js';
import { waitFor } from '../support/wait-for.js';
import { openInChromium } from './support/chromium-client.js';
import { openWithCurl } from './support/curl-client.js';
import type { InteropClient } from './support/interop-client.js';
import { openInNode } from './support/node-client.js';
import { pageBundle } from './support/page-bundle.js';
import { snippetText } from './support/snippet.js';

const README = new URL('../../README.md', import.meta.url);
const JWT_SECRET = 'interop-jwt-secret';
const PUBLISH_TOKEN = 'interop-publish-token';
const HEARTBEAT_MS = 1_000;
/** The window in which every client must keep its one connection through the heartbeats. */
const HEARTBEATS_WINDOW_MS = 10_000;
const WAIT_MS = 20_000;

/** Each client by the name of its snippet in examples/clients/; those with no reconnect of their own. */
const IN_CHROMIUM = ['native-eventsource', 'fetch-event-source', 'event-source-polyfill', 'sse-js'];
const IN_NODE = ['eventsource', 'eventsource-client', 'eventsource-parser'];
const NOT_RESUMING = ['eventsource-parser', 'curl'];

/** A message the test published: in which phase, to whom (a client's name, or `all`), which one. */
interface Sent {
  readonly phase: string;
  readonly to: string;
  readonly n: number;
}

/** What `client` got of the messages published in `phase`, in order. */
function got(client: InteropClient, phase: string): Sent[] {
  return client.data.filter((data): data is Sent => (data as Sent).phase === phase);
}

describe('SSE clients, each driven as the README shows it', () => {
  let redis: RedisServer;
  let a: ServiceProcess;
  let b: ServiceProcess;
  /** Where the clients connect: instance A; B once A is killed; A again once B shuts down. */
  let relay: TcpRelay;
  let browser: Browser;
  let witness: RawSseClient;
  let env: Record<string, string>;
  const clients: InteropClient[] = [];

  const sent: Sent[] = [];
  const publish = async (phase: string, to?: string, through = a) => {
    const data = { phase, to: to ?? 'all', n: sent.length };
    await publishTo(through.url, PUBLISH_TOKEN, { data, clientId: to });
    sent.push(data);
    return data;
  };
  /** What `client` should have got of the messages published in `phase`, in order. */
  const meant = (client: InteropClient, phase: string) =>
    sent.filter((data) => data.phase === phase && [client.name, 'all'].includes(data.to));
  const streamsOf = async (name: string) =>
    (await getPresence(a.url, `?clientId=${name}`, PUBLISH_TOKEN)).body.streams;

  beforeAll(async () => {
    assertBuildIsFresh();
    redis = await startRedis();
    env = {
      REDIS_URL: redis.url,
      SSE_REDIS_PREFIX: 'interop',
      SSE_JWT_SECRET: JWT_SECRET,
      SSE_PUBLISH_TOKEN: PUBLISH_TOKEN,
      SSE_HEARTBEAT_MS: String(HEARTBEAT_MS),
      // Clients come back soon after losing their stream or being sent away at a shutdown, and
      // presence shows each stream within a second.
      SSE_RETRY_MS: '500',
      SSE_PRESENCE_TTL_MS: '3000',
      SSE_RECONNECT_JITTER_MS: '500',
      LOG_LEVEL: 'warn',
    };
    a = await startService(env);
    b = await startService(env);
    relay = await TcpRelay.start(Number(new URL(a.url).port));
    browser = await launchChromium();
    const url = `${relay.url}/sse/msg`;
    const token = (name: string) => signToken(JWT_SECRET, name);
    clients.push(
      ...(await Promise.all([
        ...IN_CHROMIUM.map(async (name) =>
          openInChromium(
            browser,
            name,
            await pageBundle(name),
            relay.url,
            '/sse/msg',
            await token(name),
          ),
        ),
        ...IN_NODE.map(async (name) => openInNode(name, url, await token(name))),
        token('curl').then((curlToken) => openWithCurl(url, curlToken)),
      ])),
    );
    witness = await streamOf(relay.url, JWT_SECRET, 'witness');
    await Promise.all(
      clients.map(({ name }) =>
        waitFor(async () => (await streamsOf(name)) === 1, `${name}'s stream`, WAIT_MS),
      ),
    );
  });
  afterAll(async () => {
    witness?.close();
    await Promise.all(clients.map((client) => client.close()));
    await browser?.close();
    await relay?.close();
    await Promise.all([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
    await redis?.stop();
  });
  afterEach(() => {
    const unparsed = (client: InteropClient) => [client.name, client.unparsed];
    const none = (client: InteropClient) => [client.name, []];
    expect(Object.fromEntries(clients.map(unparsed))).toEqual(
      Object.fromEntries(clients.map(none)),
    );
  });

  it('gives each client its own targeted message and the broadcast, and no other client’s', async () => {
    // Every targeted one before the broadcast: a client that has the broadcast has all it will get.
    for (const { name } of clients) await publish('deliver', name);
    const broadcast = await publish('deliver');
    await Promise.all(
      clients.map((client) =>
        waitFor(
          () => got(client, 'deliver').some((data) => data.n === broadcast.n),
          `${client.name}: the broadcast`,
          WAIT_MS,
        ),
      ),
    );
    for (const client of clients) {
      expect({ [client.name]: got(client, 'deliver') }).toEqual({
        [client.name]: meant(client, 'deliver'),
      });
    }
  });

  it('keeps one connection per client through the heartbeats, and hands no handler an empty message', async () => {
    const opened = async () => (await scrape(a.url)).get('sse_bus_streams_opened_total');
    const before = { opened: await opened(), heartbeats: witness.comments };
    expect((await scrape(a.url)).get('sse_bus_open_streams')).toBe(clients.length + 1);
    // A deliberate wait: time for the heartbeats to make a client drop or reconnect if they can.
    await new Promise((resolve) => setTimeout(resolve, HEARTBEATS_WINDOW_MS));
    expect(witness.comments - before.heartbeats).toBeGreaterThanOrEqual(5);
    expect(await opened()).toBe(before.opened);
    for (const { name } of clients) {
      expect({ [name]: await streamsOf(name) }).toEqual({ [name]: 1 });
    }
  });

  /**
   * Stops `from` with `signal` while the relay holds the clients' new connections, publishes
   * through `to` meanwhile, lets them through to `to`, and checks that each client that resumes
   * got what was meant for it, once each, in order.
   */
  async function moveClients(
    phase: string,
    from: ServiceProcess,
    to: ServiceProcess,
    signal: NodeJS.Signals,
  ) {
    const resuming = clients.filter((client) => !NOT_RESUMING.includes(client.name));
    relay.hold();
    await from.stop(signal);
    // Published while no instance answers the clients: they can only get it by resuming.
    await publish(phase, undefined, to);
    for (const { name } of resuming) await publish(phase, name, to);
    await publish(phase, undefined, to);
    relay.sendTo(Number(new URL(to.url).port));
    const last = await publish(phase, undefined, to);
    await Promise.all(
      resuming.map((client) =>
        waitFor(
          () => got(client, phase).some((data) => data.n === last.n),
          `${client.name}: the last message`,
          WAIT_MS,
        ),
      ),
    );
    for (const client of resuming) {
      expect({ [client.name]: got(client, phase) }).toEqual({
        [client.name]: meant(client, phase),
      });
    }
  }

  it('gives a resuming client what was published while its instance was killed, once each, in order', async () => {
    await moveClients('killed', a, b, 'SIGKILL');
  });

  it('gives a resuming client what was published while its instance shut down, once each, in order', async () => {
    a = await startService({ ...env, PORT: new URL(a.url).port });
    await moveClients('shutdown', b, a, 'SIGTERM');
  });

  it('shows in the README the code it runs for each client', () => {
    const readme = readFileSync(README, 'utf8');
    const blocks = [
      ...[...IN_CHROMIUM, ...IN_NODE].map((name) => ['js', `${name}.js`]),
      ['sh', 'curl.sh'],
    ];
    const missing = blocks.filter(
      ([lang, file]) => !readme.includes(`\`\`\`${lang}\n${snippetText(file)}\`\`\`\n`),
    );
    expect(missing).toEqual([]);
  });
});
