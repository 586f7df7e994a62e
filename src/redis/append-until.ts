import { ReplyError } from 'ioredis';
import { BusUnavailableError } from '../errors/bus-unavailable.error.js';
import { DeadlineExceeded, delay } from './deadline.js';

/** How long to wait before sending a batch again. */
const PAUSE_MS = 20;

/**
 * Sends a batch of messages (`append(msLeft)`, one script call under one receipt) until Redis
 * answers or `deadline` passes (`DeadlineExceeded`). A lost connection, a command that got no
 * answer, or a refusal that `passing` excuses (a cluster in motion) is tried again: the receipt
 * makes a batch that did land return its first ids, never append twice. Any other refusal is
 * final: `BusUnavailableError`.
 */
export async function appendUntil<T>(
  deadline: number,
  append: (msLeft: number) => Promise<T>,
  passing?: RegExp,
): Promise<T> {
  for (;;) {
    const left = deadline - Date.now();
    try {
      if (left <= 0) throw new DeadlineExceeded('Redis is unreachable');
      return await append(left);
    } catch (err) {
      if (err instanceof ReplyError && !passing?.test((err as Error).message)) {
        throw new BusUnavailableError(`Redis refused the message: ${(err as Error).message}`);
      }
      if (err instanceof DeadlineExceeded) throw err;
      await delay(Math.min(PAUSE_MS, Math.max(0, deadline - Date.now())));
    }
  }
}
