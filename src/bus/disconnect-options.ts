import { MAX_TIMER_MS } from '../config/sse-bus.options.js';
import { InvalidMessageError } from '../errors/invalid-message.error.js';
import { clientIdProblem, lineProblem } from './message-validation.js';

/** Options of `MessageBus.disconnect()`. */
export interface DisconnectOptions {
  /**
   * Refuses the client's new streams and reconnects (`204`, which stops an EventSource for good)
   * for this long (ms), on every instance; `unblock()` lifts it. Omitted: none.
   */
  blockMs?: number;
  /** What the `disconnect` event says: `{"reason": …}`. @default 'disconnected' */
  reason?: string;
  /** Refuses the client's tokens issued until now (by `iat`), for `revocationTtlMs`. */
  revokeTokens?: boolean;
}

/** Checks what `disconnect()` was given; throws `InvalidMessageError` saying what is wrong. */
export function checkDisconnect(
  clientId: string,
  { blockMs = 0, reason = 'disconnected', revokeTokens = false }: DisconnectOptions,
): Required<DisconnectOptions> {
  const problem = clientIdProblem(clientId) ?? lineProblem(reason, 'reason');
  if (problem) throw new InvalidMessageError(problem);
  if (!Number.isSafeInteger(blockMs) || blockMs < 0 || blockMs > MAX_TIMER_MS) {
    throw new InvalidMessageError(`blockMs must be a whole number from 0 to ${MAX_TIMER_MS}`);
  }
  if (typeof revokeTokens !== 'boolean') {
    throw new InvalidMessageError('revokeTokens must be true or false');
  }
  return { blockMs, reason, revokeTokens };
}
