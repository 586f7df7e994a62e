/**
 * Knobs of the fault suite, read from the environment so a slower or faster machine can be
 * matched without editing the tests. Nothing here is asserted as a duration: these are how long
 * the suite lets time pass, or waits at most for what must happen.
 */
function knob(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name}: expected a whole number, got "${text}"`);
  }
  return value;
}

/** Heartbeat of the instances under test: small, so a stream's liveness shows quickly. */
export const HEARTBEAT_MS = knob('FAULTS_HEARTBEAT_MS', 100);
/** `publishTimeoutMs` of an instance whose publishes must give up during an outage. */
export const SHORT_PUBLISH_TIMEOUT_MS = knob('FAULTS_SHORT_PUBLISH_TIMEOUT_MS', 500);
/** `publishTimeoutMs` of an instance whose publishes must outlive an outage and land. */
export const LONG_PUBLISH_TIMEOUT_MS = knob('FAULTS_LONG_PUBLISH_TIMEOUT_MS', 20_000);
/** Longest wait for something that must happen (a reconnect, a delivery); a failure, not a pace. */
export const WAIT_MS = knob('FAULTS_WAIT_MS', 20_000);
/** Extra time Redis stays frozen once the instances have noticed (the watchdog needs ~5 s). */
export const FREEZE_EXTRA_MS = knob('FAULTS_FREEZE_EXTRA_MS', 0);

export const SOAK_CLIENTS = knob('FAULTS_SOAK_CLIENTS', 120);
export const SOAK_MESSAGES = knob('FAULTS_SOAK_MESSAGES', 1_200);
/** Messages per second the soak publishes at (both instances together). */
export const SOAK_RATE = knob('FAULTS_SOAK_RATE', 100);
/** How long a soak client stays connected, at most, before it drops and comes back. */
export const SOAK_MAX_CONNECTED_MS = knob('FAULTS_SOAK_MAX_CONNECTED_MS', 1_500);
/** How long a soak client stays away, at most. */
export const SOAK_MAX_AWAY_MS = knob('FAULTS_SOAK_MAX_AWAY_MS', 300);
/** How late the replies to one soak instance's reader are: it reads behind the other one. */
export const SOAK_READER_LAG_MS = knob('FAULTS_SOAK_READER_LAG_MS', 30);
/** Longest wait, at the end of the soak, for every client to catch up (long only when slow). */
export const SOAK_CATCH_UP_MS = knob('FAULTS_SOAK_CATCH_UP_MS', 120_000);
