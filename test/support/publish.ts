/** `POST /sse/publish` to the service at `url`; resolves to the message's id once it answered 202. */
export async function publishTo(
  url: string,
  token: string,
  body: { data: unknown; clientId?: string | string[]; event?: string; topic?: string | string[] },
): Promise<string> {
  const response = await fetch(`${url}/sse/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as { id?: string; message?: string };
  if (response.status !== 202) throw new Error(`${response.status}: ${answer.message}`);
  return answer.id!;
}

/** `POST /sse/publish` with any body (an `Idempotency-Key` if given); the response as it is. */
export function postPublish(
  url: string,
  token: string,
  body: unknown,
  idempotencyKey?: string,
): Promise<Response> {
  return fetch(`${url}/sse/publish`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
    },
    body: JSON.stringify(body),
  });
}

/**
 * `POST /sse/clients/:clientId/topics` to the service at `url`; the status and the body as JSON
 * (the change's `id` with a 202, a `message` otherwise).
 */
export async function postTopicChange(
  url: string,
  token: string,
  clientId: string,
  body: unknown,
): Promise<{ status: number; body: { id?: string; message?: string } }> {
  const response = await fetch(`${url}/sse/clients/${encodeURIComponent(clientId)}/topics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as { id?: string; message?: string },
  };
}
