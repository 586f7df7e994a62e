import { BadRequestException, HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { PublishMessage } from './bus/publish-message.js';
import { type ResolvedSseBusOptions, SSE_BUS_OPTIONS } from './config/sse-bus.options.js';
import { SseBusError } from './errors/sse-bus.error.js';
import { TooManyMessagesError } from './errors/too-many-messages.error.js';
import { RETRY_AFTER_SECONDS, httpErrorOf } from './http/http-error-of.js';
import { MessageBus } from './message-bus.js';
import { parsePublishRequest } from './publish-request.js';

/** What `POST /sse/publish` answers: a status, a JSON body and, with a 503, `Retry-After`. */
export interface PublishAnswer {
  readonly status: number;
  readonly body: object;
  readonly retryAfter?: number;
}

/** One message's part of a batch's answer. */
type ItemAnswer =
  | { readonly id: string }
  | { readonly error: { readonly statusCode: number; readonly message: string } };

/**
 * `POST /sse/publish`, whatever serves it (Nest's router, or Fastify's directly): a JSON object
 * is one message, answered `202 { id }` or with its error; a JSON array is a batch of them (see
 * `batch`). The `Idempotency-Key` header is the key of a single message; in a batch, message `i`
 * gets `<key>:<i>`, so that the retry of a whole batch lands each message once. A message's own
 * `idempotencyKey` wins over the header's.
 */
@Injectable()
export class PublishEndpoint {
  constructor(
    private readonly bus: MessageBus,
    @Inject(SSE_BUS_OPTIONS) private readonly options: ResolvedSseBusOptions,
  ) {}

  /** The answer to `body`; throws only what is neither the caller's doing nor the bus's state. */
  async answer(body: unknown, idempotencyKey: string | undefined): Promise<PublishAnswer> {
    try {
      if (Array.isArray(body)) return await this.batch(body, idempotencyKey);
      const { data, ...options } = parsePublishRequest(body, idempotencyKey);
      return { status: HttpStatus.ACCEPTED, body: { id: await this.bus.publish(data, options) } };
    } catch (err) {
      const http = asHttpError(err);
      return withRetryAfter(http.getStatus(), http.getResponse() as object);
    }
  }

  /**
   * Each message checked and published on its own, one result per message in order. `202` when
   * at least one landed; when none did, `503` if the bus was unavailable for any (a retry may
   * land them), else the status they all share, else `400`. An empty array is a `400`, more than
   * `maxBatch` messages a `413`: nothing is published then.
   */
  private async batch(
    items: unknown[],
    idempotencyKey: string | undefined,
  ): Promise<PublishAnswer> {
    if (items.length === 0) throw new BadRequestException('The array holds no message');
    const { maxBatch } = this.options;
    if (items.length > maxBatch) throw new TooManyMessagesError(items.length, maxBatch);
    const results: ItemAnswer[] = new Array<ItemAnswer>(items.length);
    const messages: PublishMessage[] = [];
    const at: number[] = [];
    items.forEach((item, i) => {
      try {
        messages.push(parsePublishRequest(item, idempotencyKey && `${idempotencyKey}:${i}`));
        at.push(i);
      } catch (err) {
        results[i] = itemError(err);
      }
    });
    const published = await this.bus.publishMany(messages);
    published.forEach((result, k) => {
      results[at[k]] = 'id' in result ? { id: result.id } : itemError(result.error);
    });
    return withRetryAfter(batchStatus(results), { results });
  }
}

function asHttpError(err: unknown): HttpException {
  if (err instanceof HttpException) return err;
  if (err instanceof SseBusError) return httpErrorOf(err);
  throw err;
}

function itemError(err: unknown): ItemAnswer {
  const http = asHttpError(err);
  return { error: { statusCode: http.getStatus(), message: http.message } };
}

function batchStatus(results: readonly ItemAnswer[]): number {
  const statuses = new Set(
    results.map((result) => ('id' in result ? HttpStatus.ACCEPTED : result.error.statusCode)),
  );
  if (statuses.has(HttpStatus.ACCEPTED)) return HttpStatus.ACCEPTED;
  if (statuses.has(HttpStatus.SERVICE_UNAVAILABLE)) return HttpStatus.SERVICE_UNAVAILABLE;
  return statuses.size === 1 ? [...statuses][0] : HttpStatus.BAD_REQUEST;
}

function withRetryAfter(status: number, body: object): PublishAnswer {
  return status === HttpStatus.SERVICE_UNAVAILABLE
    ? { status, body, retryAfter: RETRY_AFTER_SECONDS }
    : { status, body };
}
