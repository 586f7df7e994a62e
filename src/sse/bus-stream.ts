import {
  type Observable,
  Subscriber,
  Subscription,
  type TeardownLogic,
  type Unsubscribable,
} from 'rxjs';
import type { Audience, BusEvent } from '../bus/bus-event.js';
import type { StreamCursor } from '../bus/stream-cursor.js';
import type { CloseReason } from '../metrics/bus-metrics.js';
import type { StreamEncoding } from './stream-encoding.js';

/** Where a stream's items go: its client's response. */
export interface StreamSink<T> {
  /** Returns false when this cut the client off for not reading what waits for it. */
  write(item: T): boolean | void;
  /** Ends the response; `closing`: the instance is shutting down. */
  end(closing: boolean): void;
  /** Undefined while the client keeps up; otherwise settles once it has read enough (or left). */
  whenWritable(): Promise<void> | undefined;
}

/** What a stream needs from the service that opens it. */
export interface StreamHost {
  /** Whether the instance is shutting down. */
  readonly draining: boolean;
  /** The `retry` of a stream that ends: spread, so that clients ended together come back apart. */
  closingRetryMs(): number;
  /** The stream ended on an error of the bus (it never reaches the client as an `error` event). */
  failed(stream: BusStream<unknown>, err: Error): void;
  /** The client of the stream was cut off for not reading. */
  slow(audience: Audience): void;
  /** The stream is over, whichever way it ended. */
  released(stream: BusStream<unknown>): void;
}

function expire(stream: BusStream<unknown>): void {
  stream.end('expired');
}

/**
 * One open stream: `retry` and `connected`, then what its client may see from the bus, the
 * heartbeats the service gives it, and a last `retry` when it ends. It subscribes to the bus as
 * an RxJS `Subscriber` of its own and holds everything in its fields: it lives as long as its
 * connection, so each closure, wrapper subscriber and finalizer array that the usual operators
 * would hold for it is paid for by every open connection.
 */
export class BusStream<T> extends Subscriber<BusEvent> implements Audience {
  readonly clientId: string;
  readonly topics: ReadonlySet<string> | null;
  /** Where the client is in the bus, which gives each event its id; set by `open`. */
  private cursor: StreamCursor | undefined;
  /** Why the stream ended, when it was not its client that left. */
  closeReason: CloseReason = 'client';
  /** The bus's teardown, usually the only one: kept here, where RxJS would allocate an array. */
  private teardown: (() => void) | Unsubscribable | undefined;
  private expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: StreamHost,
    private readonly encoding: StreamEncoding<T>,
    private readonly sink: StreamSink<T>,
    audience: Audience,
  ) {
    super();
    this.clientId = audience.clientId;
    this.topics = audience.topics;
  }

  /** Takes the stream's place in the bus, which it closes when it ends. */
  open(cursor: StreamCursor): void {
    this.cursor = cursor;
  }

  /**
   * Sends the opening, then subscribes to `events$`. The cursor's id is where the stream starts
   * (the client's own Last-Event-ID when it `resumes`): it must be read in the same turn, so that
   * nothing comes in between. The stream ends by itself at `expiresAt` (epoch ms), when its
   * token expires.
   */
  start(
    events$: Observable<BusEvent>,
    retryMs: number,
    resumes: boolean,
    expiresAt: number | undefined,
  ): void {
    const startId = this.cursor!.id;
    for (const item of this.encoding.opening(retryMs, this.clientId, startId, resumes)) {
      this.send(item);
    }
    events$.subscribe(this);
    const expiresIn = expiresAt === undefined ? Infinity : expiresAt - Date.now();
    // The longest delay setTimeout takes; a longer one would fire at once.
    if (expiresIn < 2 ** 31 - 1 && !this.closed) {
      this.expiry = setTimeout(expire, Math.max(0, expiresIn), this);
    }
  }

  /** A comment, which clients ignore and proxies count as traffic. */
  heartbeat(): void {
    this.send(this.encoding.heartbeat);
  }

  /** Ends the stream with its own `retry`, and the response with it. */
  end(reason: CloseReason): void {
    if (this.closed) return;
    this.closeReason = reason;
    this.send(this.encoding.closing(this.host.closingRetryMs(), this.cursor?.id ?? ''));
    this.sink.end(this.host.draining);
    this.unsubscribe();
  }

  whenWritable(): Promise<void> | undefined {
    return this.sink.whenWritable();
  }

  override add(teardown: TeardownLogic): void {
    // A Subscription keeps a link back to its parent: RxJS's own bookkeeping, left to RxJS.
    if (teardown && !(teardown instanceof Subscription) && !this.teardown && !this.closed) {
      this.teardown = teardown;
    } else {
      super.add(teardown);
    }
  }

  /** Lets go of the bus and of everything else the stream holds; the response is left as it is. */
  override unsubscribe(): void {
    if (this.closed) return;
    super.unsubscribe();
    const teardown = this.teardown;
    this.teardown = undefined;
    if (typeof teardown === 'function') teardown();
    else teardown?.unsubscribe();
    clearTimeout(this.expiry);
    this.cursor?.close();
    this.host.released(this);
  }

  protected override _next(event: BusEvent): void {
    this.send(this.encoding.event(event, this.cursor!.advance(event)));
  }

  protected override _error(err: Error): void {
    this.host.failed(this, err);
    this.end('error');
  }

  /** The bus completes only when the instance shuts down. */
  protected override _complete(): void {
    this.end('shutdown');
  }

  private send(item: T): void {
    if (this.sink.write(item) !== false) return;
    this.closeReason = 'slow';
    this.host.slow(this);
  }
}
