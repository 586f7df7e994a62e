import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly headers: string;
  readonly body: string;
}

/**
 * Sends `text` as it is on a new connection to `url`'s host, and resolves to the first response
 * once its body is in (by `Content-Length`), at its head for an event stream (which does not
 * end), or to what came when the server closed. What a
 * client library would fix or refuse to send (a fragment, a body that never comes) goes out raw.
 */
export function rawHttp(url: string, text: string): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let received = '';
    const answer = (): RawResponse | undefined => {
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return undefined;
      const headers = received.slice(0, end);
      const length = /^content-length: *(\d+)/im.exec(headers);
      const body = received.slice(end + 4);
      if (length && Buffer.byteLength(body) < Number(length[1])) return undefined;
      return { status: Number(headers.split(' ')[1]), headers, body };
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      const response = answer();
      if (
        response &&
        /^(content-length:|content-type: *text\/event-stream)/im.test(response.headers)
      ) {
        socket.destroy();
        resolve(response);
      }
    });
    socket.on('close', () => {
      const response = answer();
      if (response) resolve(response);
      else {
        reject(new Error(`The connection closed without a response: ${JSON.stringify(received)}`));
      }
    });
    socket.on('error', () => undefined);
  });
}
