/**
 * Reads of the same thing at the same time share one. A read starts at the end of the turn of
 * the event loop it was asked for in, and whoever asks for the same thing before then gets its
 * answer; once started, it takes no one else. A reader that joined one already on its way could
 * miss what was written between that read and its own subscription to live events (a resume
 * subscribes, then reads), so no one does.
 */
export class SharedReads<T> {
  private readonly waiting = new Map<string, Promise<T>>();

  read(key: string, load: () => Promise<T>): Promise<T> {
    let answer = this.waiting.get(key);
    if (!answer) {
      answer = new Promise<T>((resolve, reject) =>
        setImmediate(() => {
          this.waiting.delete(key);
          load().then(resolve, reject);
        }),
      );
      this.waiting.set(key, answer);
    }
    return answer;
  }
}
