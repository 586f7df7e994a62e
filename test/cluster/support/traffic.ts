import type { TestApp } from '../../support/test-app.js';
import type { RawSseClient } from '../../support/sse-client.js';

/** One publish of the traffic, and what became of it. */
export interface Sent {
  readonly loop: number;
  readonly n: number;
  /** The user it is for; undefined: a broadcast. */
  readonly to: string | undefined;
  acknowledged?: boolean;
}

interface Received {
  loop: number;
  n: number;
  to?: string;
  marker?: boolean | string;
}

/**
 * Messages published one after the other by one loop per app, to each user in turn and to all,
 * until stopped: within a loop, every message a client may see was acknowledged before the next
 * was published, so that it must arrive in that order.
 */
export class Traffic {
  readonly sent: Sent[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(apps: readonly TestApp[], users: readonly string[]) {
    this.loops = apps.map(async (app, loop) => {
      for (let n = 0; this.running; n++) {
        const to =
          n % (users.length + 1) === users.length ? undefined : users[n % (users.length + 1)];
        const sent: Sent = { loop, n, to };
        this.sent.push(sent);
        sent.acknowledged = await app.bus.publish({ loop, n, to }, to ? { clientId: to } : {}).then(
          () => true,
          () => false,
        );
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /**
   * What `client` of `user` got, against what was acknowledged: lost (acknowledged, for it, never
   * received), repeated, out of its loop's order; `excused` counts the lost ones a `reset` owned up to.
   */
  audit(client: RawSseClient, user: string) {
    const received = client.events
      .filter((event) => event.event === undefined && event.data !== undefined)
      .map((event) => JSON.parse(event.data!) as Received)
      .filter((message) => !message.marker);
    const resets = client.events.filter((event) => event.event === 'reset').length;
    const seen = new Set<string>();
    let repeated = 0;
    let outOfOrder = 0;
    let unexpected = 0;
    const lastOf = new Map<string, number>();
    for (const { loop, n, to } of received) {
      if (to !== undefined && to !== user) unexpected++;
      const key = `${loop}:${n}`;
      if (seen.has(key)) repeated++;
      seen.add(key);
      const stream = `${loop}:${to ?? '*'}`;
      if ((lastOf.get(stream) ?? -1) >= n) outOfOrder++;
      lastOf.set(stream, n);
    }
    const lost = this.sent.filter(
      (sent) =>
        sent.acknowledged &&
        (sent.to === undefined || sent.to === user) &&
        !seen.has(`${sent.loop}:${sent.n}`),
    ).length;
    return { received: received.length, lost, repeated, outOfOrder, unexpected, resets };
  }
}
