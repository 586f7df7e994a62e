import { type ChildProcess, fork } from 'node:child_process';
import { compiled } from '../lib/paths.js';
import { pin } from './loadgen.js';
import type { PublishJob, PublishResult } from './publisher.js';

/** The controller's handle on the publisher process. */
export class Publisher {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    (reply: { ok: boolean; result?: PublishResult; error?: string }) => void
  >();

  private constructor(private readonly child: ChildProcess) {
    child.on(
      'message',
      (reply: { id: number; ok: boolean; result?: PublishResult; error?: string }) => {
        this.pending.get(reply.id)?.(reply);
        this.pending.delete(reply.id);
      },
    );
    child.on('exit', (code) => {
      for (const settle of this.pending.values()) {
        settle({ ok: false, error: `publisher exited (${code})` });
      }
      this.pending.clear();
    });
  }

  static start(cpu: string | undefined): Publisher {
    const child = fork(compiled('loadgen/publisher.js'), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    if (cpu && child.pid) pin(child.pid, cpu);
    return new Publisher(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  run(job: PublishJob): Promise<PublishResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (reply) =>
        reply.ok ? resolve(reply.result!) : reject(new Error(reply.error)),
      );
      this.child.send({ id, job });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.disconnect();
    await new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      this.child.once('exit', () => resolve(clearTimeout(timer)));
    });
  }
}
