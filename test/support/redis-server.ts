import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** Sends a signal to the server process (SIGKILL, SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void;
  /** Starts the server again on the same port and directory (after a kill). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A `redis-server` of the test's own on a free port, so a test can kill or freeze it.
 * `persistent` turns on AOF with fsync on every write, so a restart keeps every acknowledged write.
 */
export async function startRedis(options: { persistent?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sse-bus-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push(
    ...(options.persistent
      ? ['--appendonly', 'yes', '--appendfsync', 'always']
      : ['--appendonly', 'no']),
  );
  let child: ChildProcess;
  let exited: Promise<unknown>;
  const launch = async () => {
    // Started again until one holds the port: a loaded machine may take a moment to free it.
    const start = () => {
      child = spawn('redis-server', args, { stdio: 'ignore' });
      exited = new Promise((resolve) => child.once('exit', resolve));
    };
    start();
    await waitFor(async () => {
      if (child.exitCode !== null) start();
      return ping(port);
    }, `redis-server on port ${port}`);
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    signal: (signal) => child.kill(signal),
    // The killed server's port is free only once it has exited.
    restart: async () => {
      await exited;
      await launch();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function ping(port: number): Promise<boolean> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const pong = (await client.ping()) === 'PONG';
    await client.quit();
    return pong;
  } catch {
    client.disconnect();
    return false;
  }
}

/** The time on Redis's clock (ms), the one stream ids and presence expiries go by. */
export async function redisNow(client: Redis): Promise<number> {
  const [seconds, micros] = await client.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
