/**
 * What a resuming client must receive: each message it missed (by seq) once, in the log's order
 * (by id: messages published at once through several instances enter the log in any order).
 * Anything else (a repeat, one out of order, one it did not miss, a reset) is a violation.
 */
export class CatchUp {
  readonly startedNs = process.hrtime.bigint();
  /** When it had them all; 0 until then. */
  doneNs = 0n;
  violations = 0;
  private readonly seen: Uint8Array;
  private got = 0;
  private last = { ms: -1, seq: -1 };

  /** The messages it missed are those of seq `first` to `first + count - 1`. */
  constructor(
    private readonly first: number,
    count: number,
  ) {
    this.seen = new Uint8Array(count);
  }

  get done(): boolean {
    return this.doneNs > 0n;
  }

  /** A message of `seq` with event id `id` (`<epoch>.<ms>-<seq>`). */
  message(seq: number, id: string | undefined, now: bigint): void {
    const at = seq - this.first;
    const [ms, order] = (id?.split('.')[1] ?? '').split('-').map(Number);
    const inOrder = ms > this.last.ms || (ms === this.last.ms && order > this.last.seq);
    if (!(at >= 0 && at < this.seen.length) || this.seen[at] || !inOrder) {
      this.violations++;
      return;
    }
    this.seen[at] = 1;
    this.last = { ms, seq: order };
    if (++this.got === this.seen.length) this.doneNs = now;
  }

  reset(): void {
    this.violations++;
  }
}
