/**
 * The publisher process: POSTs messages to `/sse/publish` at a fixed rate, open loop. Each
 * message's timestamp is the time it was *scheduled* to be sent (hrtime, ns), so a server that
 * falls behind is charged for the queue it builds (no coordinated omission).
 */
import http from 'node:http';
import { PUBLISH_TOKEN, clientIdOf } from '../lib/tokens.js';

export interface PublishJob {
  readonly ports: number[];
  readonly mode: 'broadcast' | 'targeted';
  readonly rate: number;
  readonly count: number;
  readonly seqStart: number;
  /** Approximate size of `data` in bytes. */
  readonly payloadBytes: number;
  /** Targeted: the connections (idx) messages go to, one chosen at random per message. */
  readonly recipients?: number[];
}

export interface PublishResult {
  readonly sent: number;
  readonly accepted: number;
  readonly failed: number;
  readonly errors: string[];
  /** Recipient idx of message seqStart + i, or -1 for a broadcast. */
  readonly to: Int32Array;
  readonly startNs: string;
  readonly lastScheduledNs: string;
  readonly lastReplyNs: string;
  /** POST round trips (ms), from the scheduled time to the reply. */
  readonly replyMs: Float64Array;
}

const agents = new Map<number, http.Agent>();

function agentFor(port: number): http.Agent {
  let agent = agents.get(port);
  if (!agent) agents.set(port, (agent = new http.Agent({ keepAlive: true, maxSockets: 48 })));
  return agent;
}

let random = 0x2545f491;
function nextRandom(): number {
  // xorshift32: the same recipients run after run.
  random ^= random << 13;
  random ^= random >>> 17;
  random ^= random << 5;
  return (random >>> 0) / 0x100000000;
}

function run(job: PublishJob): Promise<PublishResult> {
  const intervalNs = 1e9 / job.rate;
  const start = process.hrtime.bigint() + 20_000_000n;
  const to = new Int32Array(job.count).fill(-1);
  const replyMs = new Float64Array(job.count).fill(NaN);
  const errors = new Map<string, number>();
  const pad = 'x'.repeat(Math.max(0, job.payloadBytes - 48));
  let sent = 0;
  let accepted = 0;
  let failed = 0;
  let settled = 0;
  let lastReply = 0n;
  let lastScheduled = start;

  return new Promise((resolve) => {
    const finish = () =>
      resolve({
        sent,
        accepted,
        failed,
        errors: [...errors].map(([e, n]) => `${e} x${n}`),
        to,
        startNs: start.toString(),
        lastScheduledNs: lastScheduled.toString(),
        lastReplyNs: lastReply.toString(),
        replyMs,
      });
    const send = (i: number, at: bigint, retries = 3) => {
      const seq = job.seqStart + i;
      let target = '';
      if (job.mode === 'targeted' && job.recipients?.length) {
        const idx = job.recipients[Math.floor(nextRandom() * job.recipients.length)];
        to[i] = idx;
        target = `,"clientId":"${clientIdOf(idx)}"`;
      }
      const body = `{"data":{"seq":${seq},"t":"${at}","p":"${pad}"}${target}}`;
      const port = job.ports[i % job.ports.length];
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/sse/publish',
        agent: agentFor(port),
        headers: {
          authorization: `Bearer ${PUBLISH_TOKEN}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      });
      const done = (ok: boolean, why?: string) => {
        const now = process.hrtime.bigint();
        if (now > lastReply) lastReply = now;
        replyMs[i] = Number(now - at) / 1e6;
        if (ok) accepted++;
        else {
          failed++;
          errors.set(why ?? '?', (errors.get(why ?? '?') ?? 0) + 1);
        }
        if (++settled === job.count) finish();
      };
      req.on('response', (res) => {
        res.resume();
        res.on('end', () =>
          done(res.statusCode === 202 || res.statusCode === 200, `status ${res.statusCode}`),
        );
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A keep-alive socket the server closed just as it was reused: the request never got
        // there, so send it again (with its original timestamp), as Node's docs advise.
        if (retries > 0 && req.reusedSocket && err.code === 'ECONNRESET') send(i, at, retries - 1);
        else done(false, err.message);
      });
      req.end(body);
      if (retries === 3) sent++;
    };
    let i = 0;
    const tick = () => {
      const now = process.hrtime.bigint();
      while (i < job.count) {
        const at = start + BigInt(Math.round(i * intervalNs));
        if (at > now) break;
        lastScheduled = at;
        send(i++, at);
      }
      if (i < job.count) {
        const wait =
          Number(start + BigInt(Math.round(i * intervalNs)) - process.hrtime.bigint()) / 1e6;
        // Never spin: messages due meanwhile go out together, stamped with their own times.
        setTimeout(tick, Math.max(1, Math.floor(wait)));
      }
    };
    if (job.count === 0) finish();
    else setTimeout(tick, 20);
  });
}

process.on('message', (message: { id: number; job: PublishJob }) => {
  run(message.job).then(
    (result) => process.send!({ id: message.id, ok: true, result }),
    (err: Error) => process.send!({ id: message.id, ok: false, error: err.stack ?? String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
