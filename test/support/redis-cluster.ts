import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, portIsFree } from './free-port.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

/** One `redis-server` of a test cluster. */
export interface ClusterNode {
  readonly port: number;
  /** The server process's id now (a restart gives it a new one). */
  readonly pid: number;
  /** Sends a signal to the server process (SIGKILL, SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void;
  /** Starts a killed node again, on its port with its cluster config: it rejoins the cluster. */
  restart(): Promise<void>;
  /** A fresh connection to this node alone (not cluster-aware); the caller disconnects it. */
  connect(): Redis;
}

export interface RedisCluster {
  /** `redis-cluster://127.0.0.1:p1,127.0.0.1:p2,…`: every node. */
  readonly url: string;
  readonly nodes: readonly ClusterNode[];
  /** The node that serves `slot` now, as the cluster says. */
  ownerOf(slot: number): Promise<ClusterNode>;
  /** Waits until every replica's link to its master is up and the cluster state is ok. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real Redis Cluster of `masters` masters with one replica each, on free ports, with a short
 * node timeout so that a killed master's replica takes over within seconds.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sse-bus-cluster-'));
  const ports: number[] = [];
  /** A port for a node: free, as is its cluster bus port (+ 10000), and none of the others'. */
  const newPort = async (): Promise<number> => {
    for (;;) {
      const port = await freePort();
      if (port < 55535 && !ports.includes(port) && (await portIsFree(port + 10000))) return port;
    }
  };
  while (ports.length < masters * 2) ports.push(await newPort());
  const spawnNode = (port: number) =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '1000',
        '--cluster-replica-validity-factor',
        '0',
        '--appendonly',
        'no',
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
  const children: ChildProcess[] = ports.map(spawnNode);
  /**
   * Waits for node `index` to answer; one that exited first (a port taken since it was found
   * free, by another test's connection) is started again on new ports, a few times.
   */
  const started = async (index: number) => {
    for (let attempt = 0; ; attempt++) {
      const child = children[index];
      await waitFor(
        async () => child.exitCode !== null || (await pong(ports[index])),
        `redis-server on ${ports[index]}`,
      );
      if (child.exitCode === null) return;
      if (attempt === 3) throw new Error(`redis-server on ${ports[index]} exited at its start`);
      ports[index] = await newPort();
      children[index] = spawnNode(ports[index]);
    }
  };
  const nodes: ClusterNode[] = ports.map((_, index) => ({
    get port() {
      return ports[index];
    },
    get pid() {
      return children[index].pid!;
    },
    signal: (signal) => children[index].kill(signal),
    async restart() {
      const child = children[index];
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise((resolve) => child.once('exit', resolve));
      }
      children[index] = spawnNode(ports[index]);
      await waitFor(() => pong(ports[index]), `redis-server on ${ports[index]} again`);
    },
    connect: () =>
      new Redis({
        port: ports[index],
        host: '127.0.0.1',
        lazyConnect: false,
        maxRetriesPerRequest: 1,
      }),
  }));
  const stop = async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(ports.map((_, index) => started(index)));
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  const cluster: RedisCluster = {
    url: `redis-cluster://${ports.map((port) => `127.0.0.1:${port}`).join(',')}`,
    nodes,
    async ownerOf(slot) {
      const answer = await askAny(nodes, (redis) => redis.call('CLUSTER', 'SLOTS'));
      const range = (answer as [number, number, [string, number]][]).find(
        ([from, to]) => slot >= from && slot <= to,
      );
      if (!range) throw new Error(`No node serves slot ${slot}`);
      return nodes.find((node) => node.port === range[2][1])!;
    },
    async settled() {
      await waitFor(() => settledNow(nodes), 'every replica in sync and the cluster ok', 30_000);
    },
    stop,
  };
  await cluster.settled();
  return cluster;
}

async function settledNow(nodes: readonly ClusterNode[]): Promise<boolean> {
  for (const node of nodes) {
    const answer = await ask(node, async (redis) => [
      await redis.call('CLUSTER', 'INFO'),
      await redis.info('replication'),
    ]).catch(() => undefined);
    if (!answer) continue; // a killed node
    const [info, replication] = answer as [string, string];
    if (!info.includes('cluster_state:ok')) return false;
    if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) {
      return false;
    }
  }
  return true;
}

async function ask<T>(node: ClusterNode, question: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({
    port: node.port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await question(redis);
  } finally {
    redis.disconnect();
  }
}

async function askAny<T>(
  nodes: readonly ClusterNode[],
  question: (redis: Redis) => Promise<T>,
): Promise<T> {
  let last: unknown;
  for (const node of nodes) {
    try {
      return await ask(node, question);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

async function pong(port: number): Promise<boolean> {
  return ask({ port } as ClusterNode, (redis) => redis.ping()).then(
    (answer) => answer === 'PONG',
    () => false,
  );
}
