import { startSystem } from '../lib/servers.js';
import { median, ratio } from '../lib/stats.js';
import { publishTargeted } from './http-publish.js';
import { readBytesTotal } from './metrics-scrape.js';
import type { InterestLog, InterestResult } from './results.js';
import { TallyClients } from './sse-tally.js';

export interface InterestConfig {
  clients: number;
  instances: number;
  messages: number;
  dataBytes: number;
  waitCapMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The same targeted traffic through `instances` service processes on one log: the bytes each
 * instance's live reader read from Redis for it, and whether every client got exactly its own.
 */
async function carry(
  redisUrl: string,
  redis: InterestLog['redis'],
  cfg: InterestConfig,
  recipients: readonly number[],
  log: (line: string) => void,
): Promise<{ log: InterestLog; readBytes: number[] }> {
  const servers = [];
  let tally: TallyClients | undefined;
  try {
    for (let i = 0; i < cfg.instances; i++) {
      servers.push(await startSystem('sse-bus', i, redisUrl, undefined));
    }
    const ports = servers.map((server) => server.port);
    tally = new TallyClients(ports, cfg.clients);
    await tally.open();
    const before = await Promise.all(ports.map(readBytesTotal));
    const started = Date.now();
    const failed = await publishTargeted(ports[0], recipients, 'x'.repeat(cfg.dataBytes - 20));
    if (failed > 0) throw new Error(`${redis}: ${failed} publishes not accepted`);
    const deadline = Date.now() + cfg.waitCapMs;
    while (tally.delivered < recipients.length && Date.now() < deadline) await sleep(50);
    const elapsedMs = Date.now() - started;
    // A moment more for any repeat to show up in the counts.
    await sleep(500);
    const after = await Promise.all(ports.map(readBytesTotal));
    const expected = Array.from({ length: cfg.clients }, (): number[] => []);
    recipients.forEach((client, seq) => expected[client].push(seq));
    const readBytes = after.map((total, i) => total - before[i]);
    log(
      `interest / ${redis}: ${tally.delivered}/${recipients.length} delivered in ${elapsedMs} ms, ` +
        `read bytes per instance ${readBytes.join(', ')}`,
    );
    return {
      readBytes,
      log: {
        redis,
        instances: readBytes.map((bytes, i) => ({
          clients: Math.ceil((cfg.clients - i) / cfg.instances),
          readBytes: bytes,
          ratio: null,
        })),
        delivered: tally.delivered,
        wrongClients: tally.wrongClients(expected),
        elapsedMs,
      },
    };
  } finally {
    tally?.close();
    for (const server of servers) await server.stop();
  }
}

/**
 * Step "interest": how much of the log each instance reads from a cluster, where it subscribes
 * only to its own clients' channels, against one instance reading all of it from a single node.
 */
export async function runInterest(
  urls: { singleNode: string; cluster: string },
  layout: { masters: number; shards: number },
  cfg: InterestConfig,
  log: (line: string) => void,
): Promise<InterestResult> {
  const recipients = Array.from({ length: cfg.messages }, () =>
    Math.floor(Math.random() * cfg.clients),
  );
  const single = await carry(urls.singleNode, 'single-node', cfg, recipients, log);
  const cluster = await carry(urls.cluster, 'cluster', cfg, recipients, log);
  const all = median(single.readBytes)!;
  for (const run of [single, cluster]) {
    for (const instance of run.log.instances) instance.ratio = ratio(instance.readBytes, all);
  }
  return {
    ...layout,
    clients: cfg.clients,
    instances: cfg.instances,
    messages: cfg.messages,
    dataBytes: cfg.dataBytes,
    allTargetedBytes: all,
    allTargetedBytesPerMessage: Math.round(all / cfg.messages),
    singleNode: single.log,
    cluster: cluster.log,
    idealRatio: 1 / cfg.instances,
    targetRatio: 0.5,
  };
}
