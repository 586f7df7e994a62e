import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { compiled } from '../lib/paths.js';
import type {
  CollectResult,
  ConnKind,
  ConnSpec,
  DrainResult,
  OpenResult,
  ReleaseResult,
  ResumeResult,
  Spread,
  StreamTarget,
  WorkerReply,
  WorkerRequest,
} from './protocol.js';

/** Most sockets one generator process holds (its fd limit is 20,000). */
export const MAX_PER_WORKER = 9_000;

type Request = WorkerRequest extends infer R
  ? R extends { id: number }
    ? Omit<R, 'id'>
    : never
  : never;

class Worker {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private exited: string | undefined;

  constructor(
    readonly index: number,
    readonly child: ChildProcess,
  ) {
    child.on('message', (reply: WorkerReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiting.resolve(reply.result);
      else waiting.reject(new Error(`load generator ${index}: ${reply.error}`));
    });
    child.on('exit', (code, signal) => {
      this.exited = `load generator ${index} exited (${code ?? signal})`;
      for (const waiting of this.pending.values()) waiting.reject(new Error(this.exited));
      this.pending.clear();
    });
  }

  call<T>(request: Request): Promise<T> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...request, id });
    });
  }
}

export interface Opened {
  connected: number;
  failed: number;
  connectMs: Float64Array;
  reasons: string[];
  elapsedMs: number;
  retries: number;
}

export type Resumed = Opened & Omit<ResumeResult, keyof OpenResult>;

/**
 * The generator processes, seen as one: connection `idx` lives on process `idx % workers` and
 * comes from source address 127.0.0.(2 + idx % 8), so that ephemeral ports last.
 */
export class LoadGen {
  private constructor(private readonly workers: Worker[]) {}

  static async start(
    count: number,
    cpu: string | undefined,
    target: StreamTarget,
  ): Promise<LoadGen> {
    const workers: Worker[] = [];
    for (let index = 0; index < count; index++) {
      const child = fork(compiled('loadgen/worker.js'), [], {
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        execArgv: ['--max-semi-space-size=16'],
      });
      const worker = new Worker(index, child);
      await worker.call({
        op: 'init',
        host: '127.0.0.1',
        localAddresses: Array.from({ length: 8 }, (_, k) => `127.0.0.${2 + k}`),
        target,
      });
      if (cpu && child.pid) pin(child.pid, cpu);
      workers.push(worker);
    }
    return new LoadGen(workers);
  }

  get pids(): number[] {
    return this.workers.map((w) => w.child.pid!).filter(Boolean);
  }

  workerOf(idx: number): number {
    return idx % this.workers.length;
  }

  /** With a `spread`, each generator spreads its connects over its window (see `Spread`). */
  async open(specs: ConnSpec[], maxInFlight = 64, spread?: Spread): Promise<Opened> {
    const parts = this.split(specs);
    const results = await Promise.all(
      this.workers.map((w, i) =>
        parts[i].length
          ? w.call<OpenResult>({ op: 'open', specs: parts[i], maxInFlight, spread })
          : Promise.resolve(EMPTY_OPEN),
      ),
    );
    return mergeOpen(results);
  }

  /**
   * The probes whose server is gone come back to `ports` with their Last-Event-ID, over the
   * `spread`, and wait for the `count` messages from `seqStart` on (see the worker's `resume`).
   */
  async resume(request: {
    ports: number[];
    spread: Spread;
    seqStart: number;
    count: number;
    maxMs: number;
  }): Promise<Resumed> {
    const results = await Promise.all(
      this.workers.map((w) => w.call<ResumeResult>({ op: 'resume', ...request })),
    );
    return {
      ...mergeOpen(results),
      resuming: results.reduce((n, r) => n + r.resuming, 0),
      caughtUp: results.reduce((n, r) => n + r.caughtUp, 0),
      violations: results.reduce((n, r) => n + r.violations, 0),
      catchUpMs: concat(results.map((r) => r.catchUpMs)),
      allCaughtUpMs: Math.max(0, ...results.map((r) => r.allCaughtUpMs)),
    };
  }

  async storm(maxInFlight: number): Promise<Opened> {
    return mergeOpen(
      await Promise.all(this.workers.map((w) => w.call<OpenResult>({ op: 'storm', maxInFlight }))),
    );
  }

  async collect(): Promise<CollectResult[]> {
    return Promise.all(this.workers.map((w) => w.call<CollectResult>({ op: 'collect' })));
  }

  async drain(quietMs = 300, maxMs = 60_000): Promise<DrainResult[]> {
    return Promise.all(
      this.workers.map((w) => w.call<DrainResult>({ op: 'drain', quietMs, maxMs })),
    );
  }

  async release(quietMs = 500, maxMs = 30_000): Promise<ReleaseResult> {
    const parts = await Promise.all(
      this.workers.map((w) => w.call<ReleaseResult>({ op: 'release', quietMs, maxMs })),
    );
    return {
      stalled: parts.reduce((n, p) => n + p.stalled, 0),
      cutByServer: parts.reduce((n, p) => n + p.cutByServer, 0),
      bytes: parts.reduce((n, p) => n + p.bytes, 0),
    };
  }

  async live(on: boolean): Promise<void> {
    await Promise.all(this.workers.map((w) => w.call({ op: 'live', on })));
  }

  async close(kind?: ConnKind): Promise<void> {
    await Promise.all(this.workers.map((w) => w.call({ op: 'close', kind })));
  }

  async stop(): Promise<void> {
    for (const w of this.workers) {
      if (w.child.exitCode === null) {
        w.child.disconnect();
        await new Promise((resolve) => {
          const timer = setTimeout(() => w.child.kill('SIGKILL'), 5_000);
          w.child.once('exit', () => resolve(clearTimeout(timer)));
        });
      }
    }
  }

  private split(specs: ConnSpec[]): ConnSpec[][] {
    const parts: ConnSpec[][] = this.workers.map(() => []);
    for (const spec of specs) parts[this.workerOf(spec.idx)].push(spec);
    return parts;
  }
}

const EMPTY_OPEN: OpenResult = {
  connected: 0,
  failed: 0,
  connectMs: new Float64Array(),
  reasons: [],
  elapsedMs: 0,
  retries: 0,
};

function concat(arrays: Float64Array[]): Float64Array {
  const all = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    all.set(a, offset);
    offset += a.length;
  }
  return all;
}

function mergeOpen(results: OpenResult[]): Opened {
  return {
    connected: results.reduce((n, r) => n + r.connected, 0),
    failed: results.reduce((n, r) => n + r.failed, 0),
    connectMs: concat(results.map((r) => r.connectMs)),
    reasons: results.flatMap((r) => r.reasons),
    elapsedMs: Math.max(0, ...results.map((r) => r.elapsedMs)),
    retries: results.reduce((n, r) => n + r.retries, 0),
  };
}

/** Pins a process to CPUs with taskset (best effort: a bench without taskset still runs). */
export function pin(pid: number, cpu: string): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpu, String(pid)], { stdio: 'ignore' });
  } catch {
    // No taskset, or the process is gone: run unpinned.
  }
}
