import { Agent } from 'node:http';
import { postWithToken } from '../lib/token-post.js';
import { clientIdOf } from '../lib/tokens.js';

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
  const post = async (seq: number) => {
    const body = `{"data":{"seq":${seq},"p":"${pad}"},"clientId":"${clientIdOf(recipients[seq])}"}`;
    const status = await postWithToken(port, '/sse/publish', body, agent);
    if (status !== 200 && status !== 202) failed++;
  };
  const worker = async () => {
    while (next < recipients.length) await post(next++);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  agent.destroy();
  return failed;
}
