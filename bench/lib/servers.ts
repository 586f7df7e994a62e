import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { ROOT, builtFile, compiled, serviceEntry, startFlags } from './paths.js';
import { JWT_SECRET, PUBLISH_TOKEN } from './tokens.js';

export type SystemId =
  | 'sse-bus'
  | 'sse-bus-own'
  | 'nest-floor'
  | 'bare-http'
  | 'better-sse'
  | 'naive-nest'
  | 'sse-bus-before'
  | 'sse-bus-own-before';

export interface SystemSpec {
  label: string;
  script: () => string;
  describe: string;
  /** The stream's path (default `/sse/msg`). */
  path?: string;
  /**
   * The stream sends nothing, not even `connected`: a connection is open once the response's
   * headers are in, and the system only takes part in the idle levels.
   */
  idleOnly?: boolean;
  /** Environment of its servers beyond what every system gets. */
  env?: () => Record<string, string>;
  /** Node flags of its servers. */
  nodeFlags?: () => string[];
  /** The system it runs again from the previous build (`--before`), to compare with it. */
  beforeOf?: SystemId;
}

/** The previous build's dist/ (`--before DIR`), which the `-before` systems run. */
let beforeDist: string | undefined;

/** Sets the build the `-before` systems run, `DIR/dist`, once it has what they start. */
export function useBeforeBuild(dir: string): string {
  const dist = join(resolve(dir), 'dist');
  builtFile(dist, 'index.js');
  serviceEntry(dist);
  builtFile(dist, 'service/env.config.js', 'config/env.config.js');
  beforeDist = dist;
  return dist;
}

/** Whether `--before` gave a previous build to run beside this one. */
export function hasBeforeBuild(): boolean {
  return beforeDist !== undefined;
}

function before(): string {
  if (!beforeDist) throw new Error('The -before systems need --before DIR');
  return beforeDist;
}

export const SYSTEMS: Record<SystemId, SystemSpec> = {
  'sse-bus': {
    label: 'sse-bus',
    script: () => serviceEntry(join(ROOT, 'dist')),
    nodeFlags: startFlags,
    describe: `this project: NestJS 12 + Fastify, as \`npm start\` runs it (\`node ${startFlags().join(' ')} dist/service/main.js\`)`,
  },
  'sse-bus-own': {
    label: 'sse-bus own @Sse()',
    script: () => compiled('baselines/sse-bus-own-sse.js'),
    path: '/sse/own',
    describe:
      "this project's module in an app of its own (NestJS 12 + Fastify), `GET /sse/own`: an `@Sse()` handler returning `bus.sse(request, { clientId })`, written by Nest's SSE plumbing",
  },
  'nest-floor': {
    label: 'Nest @Sse() floor',
    script: () => compiled('baselines/sse-bus-own-sse.js'),
    path: '/sse/never',
    idleOnly: true,
    describe:
      'the same app, `GET /sse/never`: an `@Sse()` handler returning `NEVER` after the same token check, the least a Nest SSE stream holds; idle levels only, as it delivers nothing',
  },
  'bare-http': {
    label: 'bare node:http',
    script: () => compiled('baselines/bare-http.js'),
    describe: 'node:http, one prebuilt frame Buffer per message, Map routing, one heartbeat timer',
  },
  'better-sse': {
    label: 'better-sse',
    script: () => compiled('baselines/better-sse.js'),
    describe: 'better-sse 0.16.1 sessions on one channel, on node:http',
  },
  'naive-nest': {
    label: 'naive NestJS',
    script: () => compiled('baselines/naive-nest.js'),
    describe:
      'NestJS + Express, Map<clientId, Response>, JSON.stringify + res.write per client, Redis pub/sub',
  },
  // The same two from an earlier build, in the same run: a change to the library is judged
  // against what came before it on one machine in one state, not against an old results file.
  'sse-bus-before': {
    label: 'sse-bus (before)',
    script: () => serviceEntry(before()),
    // Run as this build's service is: the two differ by their code only.
    nodeFlags: startFlags,
    describe: 'sse-bus as above, from the previous build `--before` names',
    beforeOf: 'sse-bus',
  },
  'sse-bus-own-before': {
    label: 'sse-bus own @Sse() (before)',
    script: () => compiled('baselines/sse-bus-own-sse.js'),
    env: () => ({ SSE_BUS_DIST: before() }),
    path: '/sse/own',
    describe: 'the own `@Sse()` app as above, on the previous build `--before` names',
    beforeOf: 'sse-bus-own',
  },
};

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ServerProcess {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last lines it printed. */
  output(): string;
  /** Why it exited, if it did while it should not have. */
  crashed(): string | undefined;
  /** Full GC, then memory and event-loop delay since the last call (from the preload). */
  stats(): Promise<ServerStats | undefined>;
  /** SIGKILL, as a crash would: not reported as one. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServerStats {
  before: NodeJS.MemoryUsage;
  after: NodeJS.MemoryUsage;
  loopDelayMs: { p50: number; p99: number; max: number };
}

function keepTail(text: string, more: string): string {
  const all = text + more;
  return all.length > 20_000 ? all.slice(-20_000) : all;
}

/** Starts `node <script>` pinned to `cpu`, and waits until its port accepts connections. */
export async function startNode(
  name: string,
  script: string,
  env: Record<string, string>,
  cpu: string | undefined,
  nodeFlags: string[] = [],
): Promise<ServerProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sse-bench-'));
  const statsFile = join(dir, 'stats.json');
  // BENCH_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") adds Node flags to the
  // servers, for profiling; they are then stopped with SIGTERM so that the profile is written.
  const extra = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  // BENCH_NO_GC=1: no forced GC in the servers (the preload then reports without one), so that
  // a profile shows only the GC the system itself causes.
  const args = [
    ...nodeFlags,
    ...extra,
    ...(process.env.BENCH_NO_GC === '1' ? [] : ['--expose-gc']),
    '--import',
    pathToFileURL(compiled('lib/server-preload.js')).href,
    script,
  ];
  const command = cpu ? 'taskset' : process.execPath;
  const child = spawn(command, cpu ? ['-c', cpu, process.execPath, ...args] : args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      SSE_JWT_SECRET: JWT_SECRET,
      SSE_PUBLISH_TOKEN: PUBLISH_TOKEN,
      SSE_MAX_CONNECTIONS: '20000',
      SSE_HEARTBEAT_MS: '600000',
      BENCH_STATS_FILE: statsFile,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stopping = false;
  let exit: string | undefined;
  child.stdout!.on('data', (chunk: Buffer) => (output = keepTail(output, chunk.toString())));
  child.stderr!.on('data', (chunk: Buffer) => (output = keepTail(output, chunk.toString())));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      if (!stopping) exit = `${name} exited (${code ?? signal}): ${output.slice(-2000)}`;
      resolve();
    }),
  );
  const deadline = Date.now() + 30_000;
  while (!(await accepts(port))) {
    if (exit) throw new Error(exit);
    if (Date.now() > deadline) throw new Error(`${name} did not listen within 30 s: ${output}`);
    await sleep(100);
  }
  return {
    name,
    port,
    pid: child.pid!,
    child,
    output: () => output,
    crashed: () => exit,
    async stats() {
      if (exit) return undefined;
      rmSync(statsFile, { force: true });
      child.kill('SIGUSR2');
      for (let i = 0; i < 500; i++) {
        await sleep(20);
        try {
          return JSON.parse(readFileSync(statsFile, 'utf8')) as ServerStats;
        } catch {
          // Not written yet.
        }
      }
      return undefined;
    },
    async kill() {
      stopping = true;
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        if (extra.length > 0) {
          child.kill('SIGTERM');
          await Promise.race([exited, sleep(15_000)]);
        }
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a system's server; `env` adds to (or overrides) what every system gets. */
export async function startSystem(
  system: SystemId,
  index: number,
  redisUrl: string | undefined,
  cpu: string | undefined,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const all: Record<string, string> = {
    ...env,
    ...SYSTEMS[system].env?.(),
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
  };
  return startNode(
    `${system}#${index}`,
    SYSTEMS[system].script(),
    all,
    cpu,
    SYSTEMS[system].nodeFlags?.(),
  );
}

export interface RedisProcess {
  readonly url: string;
  readonly pid: number;
  info(): Promise<Record<string, string>>;
  /** Calls so far by command (`INFO commandstats`), but `INFO` itself. */
  commands(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startRedis(cpu: string | undefined): Promise<RedisProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sse-bench-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ];
  const child = cpu
    ? spawn('taskset', ['-c', cpu, 'redis-server', ...args], { stdio: 'ignore' })
    : spawn('redis-server', args, { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null) throw new Error('redis-server exited at start');
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await sleep(50);
  }
  const url = `redis://127.0.0.1:${port}`;
  const ask = async <T>(question: (client: Redis) => Promise<T>): Promise<T> => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      return await question(client);
    } finally {
      client.disconnect();
    }
  };
  return {
    url,
    pid: child.pid!,
    commands: () =>
      ask(async (client) => {
        const calls: Record<string, number> = {};
        for (const [, name, count] of (await client.info('commandstats')).matchAll(
          /^cmdstat_(\S+?):calls=(\d+)/gm,
        )) {
          if (name !== 'info') calls[name] = Number(count);
        }
        return calls;
      }),
    info: () =>
      ask(async (client) => {
        const text = `${await client.info('stats')}\n${await client.info('clients')}\n${await client.info('memory')}`;
        const fields: Record<string, string> = {};
        for (const line of text.split(/\r?\n/)) {
          const at = line.indexOf(':');
          if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1);
        }
        return fields;
      }),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
