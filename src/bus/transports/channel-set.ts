/**
 * The channels a shard reader listens on for this instance's streams: how many streams want each,
 * which are subscribed on the reader's connection, and the streams waiting for theirs to be.
 *
 * A subscribe or unsubscribe takes a round trip, and a channel may be released and wanted again
 * before the answer comes: each channel has a generation, moved on at every subscribe or
 * unsubscribe sent for it, so that an answer overtaken by a later request says nothing.
 */
export class ChannelSet {
  private readonly wanted = new Map<string, number>();
  private subscribed = new Set<string>();
  private generations = new Map<string, number>();
  private waiters: { channels: readonly string[]; resolve: () => void }[] = [];

  /** Every channel a stream wants. */
  get all(): string[] {
    return [...this.wanted.keys()];
  }

  wants(channel: string): boolean {
    return this.wanted.has(channel);
  }

  /** One more stream wants `channels`; returns those that no stream wanted before. */
  want(channels: readonly string[]): string[] {
    return channels.filter((channel) => {
      const streams = this.wanted.get(channel) ?? 0;
      this.wanted.set(channel, streams + 1);
      return streams === 0;
    });
  }

  /** A stream no longer wants `channels`; returns those that no stream wants now. */
  release(channels: readonly string[]): string[] {
    return channels.filter((channel) => {
      const streams = this.wanted.get(channel)! - 1;
      if (streams > 0) {
        this.wanted.set(channel, streams);
        return false;
      }
      this.wanted.delete(channel);
      this.subscribed.delete(channel);
      return true;
    });
  }

  /** Undefined when every one of `channels` is subscribed; else settles once they are. */
  whenSubscribed(channels: readonly string[]): Promise<void> | undefined {
    if (channels.every((channel) => this.subscribed.has(channel))) return undefined;
    return new Promise((resolve) => this.waiters.push({ channels, resolve }));
  }

  /** Wanted, and not subscribed. */
  missing(): string[] {
    return this.all.filter((channel) => !this.subscribed.has(channel));
  }

  /** The connection is lost: nothing is subscribed any more, nor waits for an answer. */
  lost(): void {
    this.subscribed.clear();
    this.generations = new Map();
  }

  /**
   * The subscription was taken afresh, with `channels` in it: those still wanted are subscribed,
   * and no others.
   */
  taken(channels: readonly string[]): void {
    this.subscribed = new Set(channels.filter((channel) => this.wanted.has(channel)));
    this.notify();
  }

  /** A subscribe or unsubscribe of `channels` is sent: their generations, to confirm it with. */
  sending(channels: readonly string[]): number[] {
    return channels.map((channel) => {
      const generation = (this.generations.get(channel) ?? 0) + 1;
      this.generations.set(channel, generation);
      return generation;
    });
  }

  /** Redis answered the subscribe of `channels` sent at `generations`. */
  confirmSubscribe(channels: readonly string[], generations: readonly number[]): void {
    channels.forEach((channel, i) => {
      if (this.generations.get(channel) === generations[i]) this.subscribed.add(channel);
    });
    this.notify();
  }

  /** Redis answered the unsubscribe of `channels` sent at `generations`. */
  confirmUnsubscribe(channels: readonly string[], generations: readonly number[]): void {
    // Nothing older is still to be answered: a channel no one wants is forgotten.
    channels.forEach((channel, i) => {
      if (this.generations.get(channel) === generations[i]) this.generations.delete(channel);
    });
  }

  private notify(): void {
    this.waiters = this.waiters.filter(({ channels, resolve }) => {
      if (!channels.every((channel) => this.subscribed.has(channel))) return true;
      resolve();
      return false;
    });
  }
}
