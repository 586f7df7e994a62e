type Listener = (...args: never[]) => void;

/** The app's listeners, by event name. */
export class Listeners {
  private readonly byName = new Map<string, Set<Listener>>();

  on(name: string, listener: Listener): () => void {
    const set = this.byName.get(name) ?? new Set();
    this.byName.set(name, set.add(listener));
    return () => set.delete(listener);
  }

  emit(name: string, ...args: unknown[]): void {
    for (const listener of this.byName.get(name) ?? []) {
      try {
        (listener as (...args: unknown[]) => void)(...args);
      } catch (err) {
        // An app's throwing listener is its own bug: reported as uncaught, not a broken stream.
        setTimeout(() => {
          throw err;
        });
      }
    }
  }
}
