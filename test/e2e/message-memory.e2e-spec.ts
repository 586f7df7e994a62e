import { type ServiceProcess, startService } from '../support/service-process.js';
import { RawSseClient } from '../support/sse-client.js';

const MAX_MESSAGE_BYTES = 64 * 1024;
const MAX_RECIPIENTS = 1000;
const HISTORY_MAX_BYTES = 8 * 1024 * 1024;
const HEAP_MB = 96;
/** Publishes of the largest messages, at least: the history's bytes a dozen times over. */
const FLOOD_PUBLISHES = 1500;
/** And for at least this long (ms): a minute, as an attacker would keep at it. */
const FLOOD_MS = Number(process.env.SSE_FLOOD_MS ?? 60_000);

/**
 * The largest message the service takes: its most recipients, with ids as long as fit beside
 * the data within `SSE_MAX_MESSAGE_BYTES`; all of them fresh, as an attacker would send.
 */
function largest(n: number): { data: string; clientId: string[] } {
  const idLength = 60;
  const clientId = Array.from({ length: MAX_RECIPIENTS }, (_, i) =>
    `${n}-${i}-`.padEnd(idLength, 'x'),
  );
  const data = 'd'.repeat(MAX_MESSAGE_BYTES - MAX_RECIPIENTS * idLength - 2);
  return { data, clientId };
}

describe('memory under a flood of the largest messages', () => {
  let service: ServiceProcess;
  beforeAll(async () => {
    service = await startService({
      SSE_PUBLISH_TOKEN: 't',
      SSE_HISTORY_MAX_BYTES: String(HISTORY_MAX_BYTES),
      SSE_IDEMPOTENCY_MAX_KEYS: '500',
      LOG_LEVEL: 'warn',
      // Past what the history would take if it counted only the data: the process would die.
      NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}`,
    });
  });
  afterAll(() => service.stop());

  const publish = async (body: unknown, idempotencyKey?: string) => {
    const response = await fetch(`${service.url}/sse/publish`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer t',
        'content-type': 'application/json',
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { message?: string } };
  };
  const heapUsed = async () => {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    return Number(/^nodejs_heap_size_used_bytes (\d+)/m.exec(text)![1]);
  };

  it('answers 413 for more recipients than SSE_MAX_RECIPIENTS, or names past the byte limit', async () => {
    const ids = (count: number, length: number) =>
      Array.from({ length: count }, (_, i) => `${i}-`.padEnd(length, 'x'));
    const tooMany = await publish({ data: 1, clientId: ids(MAX_RECIPIENTS + 1, 8) });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.message).toMatch(/1001 client ids, over the limit of 1000/);
    // What grew the heap until the process died: a byte of data, 750 KB of ids.
    const tooLarge = await publish({ data: 1, clientId: ids(MAX_RECIPIENTS, 250) });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.message).toMatch(/over the limit of 65536/);
    expect((await publish(largest(0))).status).toBe(202);
  });

  it(
    'keeps the heap under its caps, and a normal publish reaches an open stream',
    async () => {
      const stream = new RawSseClient(`${service.url}/sse/msg`, {}, true);
      await stream.waitForEvents(1);
      const before = await heapUsed();
      const samples: number[] = [];
      const end = Date.now() + FLOOD_MS;
      for (let n = 0; n < FLOOD_PUBLISHES || Date.now() < end; n += 4) {
        // Four at a time, each with a key of its own: the seen keys fill up too.
        const answers = await Promise.all(
          [0, 1, 2, 3].map((i) => publish(largest(n + i), `flood-${n + i}`.padEnd(255, 'k'))),
        );
        expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 202]);
        if (n % 100 === 0) samples.push(await heapUsed());
      }
      expect(service.child.exitCode).toBeNull();
      expect((await publish({ data: { marker: 1 } })).status).toBe(202);
      const marker = await stream.waitForEvent((event) => event.event === undefined, 'the marker');
      expect(marker.id).toMatch(/\./);
      expect(stream.ended).toBe(false);
      stream.close();
      // The heap just after a collection: the least of the last samples. Past what it held
      // before, the history's cap and the requests in flight (the rest is garbage not yet swept).
      const settled = Math.min(...samples.slice(-5));
      console.log(
        `heapUsed before the flood and over it (MB): ${[before, ...samples].map((bytes) => (bytes / 1e6).toFixed(0)).join(' ')}`,
      );
      expect(settled).toBeLessThan(before + HISTORY_MAX_BYTES + 24e6);
    },
    FLOOD_MS + 60_000,
  );
});
