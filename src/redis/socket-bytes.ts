import type { Socket } from 'node:net';

/** Bytes read by a set of sockets over their lives: the closed ones' as well as the open ones'. */
export class SocketBytes {
  private closed = 0;
  private readonly open = new Set<Socket>();

  watch(socket: Socket): void {
    this.open.add(socket);
    socket.once('close', () => {
      this.closed += socket.bytesRead;
      this.open.delete(socket);
    });
  }

  get total(): number {
    let total = this.closed;
    for (const socket of this.open) total += socket.bytesRead;
    return total;
  }
}
