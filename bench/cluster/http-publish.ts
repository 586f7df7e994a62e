import { Agent, request } from 'node:http';
import { PUBLISH_TOKEN, clientIdOf } from '../lib/tokens.js';

/**
 * POSTs message `seq` of `recipients` to client `c<recipients[seq]>` through one instance's
 * `POST /sse/publish`, `parallel` at a time; resolves to how many were not accepted.
 */
export async function publishTargeted(
  port: number,
  recipients: readonly number[],
  pad: string,
  parallel = 64,
): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  let next = 0;
  let failed = 0;
  const post = (seq: number) =>
    new Promise<void>((resolve) => {
      const body = `{"data":{"seq":${seq},"p":"${pad}"},"clientId":"${clientIdOf(recipients[seq])}"}`;
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/sse/publish',
          agent,
          headers: {
            authorization: `Bearer ${PUBLISH_TOKEN}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200 && res.statusCode !== 202) failed++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end(body);
    });
  const worker = async () => {
    while (next < recipients.length) await post(next++);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  agent.destroy();
  return failed;
}
