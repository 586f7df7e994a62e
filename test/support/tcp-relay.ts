import { type Server, type Socket, connect, createServer } from 'node:net';

/**
 * One address in front of whichever instance is alive, as a load balancer gives clients: it relays
 * each TCP connection to the target port, and can hold new connections unanswered (while no
 * instance is up) until it is told where to send them.
 */
export class TcpRelay {
  private readonly sockets = new Set<Socket>();
  private readonly held: Socket[] = [];
  private readonly server: Server = createServer((client) => this.accept(client));
  private target: number | undefined;
  private port = 0;

  private constructor(target: number) {
    this.target = target;
  }

  static async start(target: number): Promise<TcpRelay> {
    const relay = new TcpRelay(target);
    await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
    relay.port = (relay.server.address() as { port: number }).port;
    return relay;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Leaves new connections waiting, unanswered, until `sendTo`. */
  hold(): void {
    this.target = undefined;
  }

  /** Relays new connections, and those held, to `target`. */
  sendTo(target: number): void {
    this.target = target;
    this.held.splice(0).forEach((client) => this.relay(client, target));
  }

  async close(): Promise<void> {
    this.sockets.forEach((socket) => socket.destroy());
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.target === undefined) {
      // Unread until relayed: the request waits in the socket.
      client.pause();
      this.held.push(client);
    } else {
      this.relay(client, this.target);
    }
  }

  private relay(client: Socket, target: number): void {
    const upstream = this.track(connect(target, '127.0.0.1'));
    // Either end gone (an instance killed, a client that left): the other goes too.
    upstream.once('close', () => client.destroy());
    client.once('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  }

  private track(socket: Socket): Socket {
    this.sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }
}
