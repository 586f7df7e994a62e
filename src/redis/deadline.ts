import { setTimeout as delay } from 'node:timers/promises';

export { delay };

export class DeadlineExceeded extends Error {}

/**
 * Settles like `promise`, or rejects with `DeadlineExceeded` after `ms`. The promise is left to
 * settle on its own; its late rejection is swallowed rather than reported as unhandled.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, expiry]).finally(() => clearTimeout(timer));
}
