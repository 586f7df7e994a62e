import { type ClientRequest, request } from 'node:http';
import { clientIdOf, signToken } from '../lib/tokens.js';

/** The `seq` of a message frame's data, as the bench publishes it: `{"seq":N,…}`. */
const SEQ = /^data: ?\{"seq":(\d+)/m;
const CONNECTED = /^event: ?connected$/m;

/**
 * SSE clients on `GET /sse/msg`, client `c<i>` on `ports[i % ports.length]`, each keeping the
 * `seq` of every message it receives, so that a run can be checked message by message.
 */
export class TallyClients {
  /** Seqs received, by client index. */
  readonly received: number[][];
  private readonly requests: ClientRequest[] = [];
  private total = 0;

  constructor(
    private readonly ports: readonly number[],
    readonly count: number,
  ) {
    this.received = Array.from({ length: count }, () => []);
  }

  get delivered(): number {
    return this.total;
  }

  /** Opens every connection, `parallel` at a time, and resolves once each has its `connected`. */
  async open(parallel = 100): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < this.count) await this.connect(next++);
    };
    await Promise.all(Array.from({ length: parallel }, worker));
  }

  private async connect(index: number): Promise<void> {
    const token = await signToken(clientIdOf(index));
    const port = this.ports[index % this.ports.length];
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: `/sse/msg?token=${token}` }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`client ${index} on ${port}: status ${res.statusCode}`));
          return;
        }
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          buffer += chunk;
          const blocks = buffer.split('\n\n');
          buffer = blocks.pop()!;
          for (const block of blocks) {
            const seq = SEQ.exec(block);
            if (seq) {
              this.received[index].push(Number(seq[1]));
              this.total++;
            } else if (CONNECTED.test(block)) resolve();
          }
        });
      });
      req.on('error', reject);
      req.end();
      this.requests.push(req);
    });
  }

  /** Clients whose seqs are not exactly `expected[i]` (in any order, each once). */
  wrongClients(expected: readonly number[][]): number {
    let wrong = 0;
    for (let i = 0; i < this.count; i++) {
      const got = [...this.received[i]].sort((a, b) => a - b);
      const want = [...expected[i]].sort((a, b) => a - b);
      if (got.length !== want.length || got.some((seq, at) => seq !== want[at])) wrong++;
    }
    return wrong;
  }

  close(): void {
    for (const req of this.requests) req.destroy();
  }
}
