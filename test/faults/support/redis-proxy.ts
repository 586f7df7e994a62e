import { type Server, type Socket, connect, createServer } from 'node:net';

/** The connections of a RedisTransport, told apart by the name they give Redis. */
export type Role = 'reader' | 'writer';

interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  role: Role | undefined;
  sniffed: string;
  /** Replies from Redis held back from the client, while its role is held. */
  held: Buffer[] | undefined;
  /** Passes nothing either way, yet stays open: a peer gone without a word. */
  silent: boolean;
}

/**
 * A TCP proxy in front of a redis-server that can delay or cut the connections of one role of
 * one instance: the faults that hit a single socket (a slow network path, a reply lost on the
 * way back) where signals to Redis would hit everyone. An instance given `url` as its Redis URL
 * goes through it; the role comes from the `CLIENT SETNAME sse-bus:<role>` of its handshake.
 */
export class RedisProxy {
  private readonly links = new Set<Link>();
  private readonly holding = new Set<Role>();
  private readonly lags = new Map<Role, number>();
  private readonly server: Server = createServer((client) => this.accept(client));
  private port = 0;

  private constructor(private readonly redisPort: number) {}

  static async start(redisPort: number): Promise<RedisProxy> {
    const proxy = new RedisProxy(redisPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.server.address() as { port: number }).port;
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Open connections of `role` (0 while it reconnects). */
  count(role: Role): number {
    return [...this.links].filter((link) => link.role === role).length;
  }

  /** Holds Redis's replies to `role`'s connections, present and future, until `release`. */
  hold(role: Role): void {
    this.holding.add(role);
    for (const link of this.links) if (link.role === role) link.held ??= [];
  }

  /** Delays every reply to `role`'s connections by `ms` (0: none): a slow path to Redis. */
  lag(role: Role, ms: number): void {
    this.lags.set(role, ms);
  }

  /** Delivers what was held, in order, and stops holding. */
  release(role: Role): void {
    this.holding.delete(role);
    for (const link of this.links) {
      if (link.role !== role || !link.held) continue;
      const held = link.held;
      link.held = undefined;
      for (const chunk of held) link.client.write(chunk);
    }
  }

  /**
   * Makes `role`'s open connections pass nothing, either way, while staying open, as when the
   * host at the other end is gone without a reset; new connections pass.
   */
  silence(role: Role): void {
    for (const link of this.links) if (link.role === role) link.silent = true;
  }

  /** Breaks `role`'s connections, dropping what was held for them; new connections pass. */
  cut(role: Role): void {
    this.holding.delete(role);
    for (const link of [...this.links]) {
      if (link.role !== role) continue;
      link.held = undefined;
      link.client.destroy();
      link.upstream.destroy();
    }
  }

  async close(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    await new Promise((resolve) => this.server.close(resolve));
  }

  private deliver(link: Link, chunk: Buffer): void {
    if (link.silent) return;
    if (link.held) link.held.push(chunk);
    else if (!link.client.destroyed) link.client.write(chunk);
  }

  private accept(client: Socket): void {
    const upstream = connect(this.redisPort, '127.0.0.1');
    const link: Link = {
      client,
      upstream,
      role: undefined,
      sniffed: '',
      held: undefined,
      silent: false,
    };
    this.links.add(link);
    client.on('data', (chunk: Buffer) => {
      if (link.role === undefined && link.sniffed.length < 4096) {
        link.sniffed += chunk.toString('latin1');
        const role = /sse-bus:(reader|writer)/.exec(link.sniffed)?.[1] as Role | undefined;
        if (role) {
          link.role = role;
          if (this.holding.has(role)) link.held = [];
        }
      }
      if (!link.silent) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      const lag = link.role && this.lags.get(link.role);
      // Timers of one delay fire in the order they were set: the bytes stay in order.
      if (lag) setTimeout(() => this.deliver(link, chunk), lag);
      else this.deliver(link, chunk);
    });
    const end = () => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) socket.on('close', end).on('error', end);
  }
}
