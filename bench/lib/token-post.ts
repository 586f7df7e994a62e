import { type Agent, request } from 'node:http';
import { PUBLISH_TOKEN } from './tokens.js';

/**
 * POSTs the JSON `body` to `path` on the local instance at `port` with the publish token, over
 * `agent`'s keep-alive sockets; resolves to the status answered, or 0 when the request failed.
 */
export function postWithToken(
  port: number,
  path: string,
  body: string,
  agent: Agent,
): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        agent,
        headers: {
          authorization: `Bearer ${PUBLISH_TOKEN}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}
