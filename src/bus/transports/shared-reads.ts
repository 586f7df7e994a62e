/**
 * Reads of the same thing at the same time share one: the first caller's starts it, the others
 * get its answer. Settled reads are forgotten, so a later caller reads afresh.
 */
export class SharedReads<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  read(key: string, load: () => Promise<T>): Promise<T> {
    let answer = this.inFlight.get(key);
    if (!answer) {
      answer = load().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, answer);
    }
    return answer;
  }
}
