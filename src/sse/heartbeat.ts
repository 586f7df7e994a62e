import { Inject, Injectable } from '@nestjs/common';
import { type Observable, interval, share } from 'rxjs';
import { type ResolvedSseBusOptions, SSE_BUS_OPTIONS } from '../config/sse-bus.options.js';

/**
 * One clock for every stream of the process, rather than a timer per connection. It runs while
 * at least one stream listens, and stops with the last one.
 */
@Injectable()
export class Heartbeat {
  readonly beat$: Observable<number>;

  constructor(@Inject(SSE_BUS_OPTIONS) options: ResolvedSseBusOptions) {
    this.beat$ = interval(options.heartbeatMs).pipe(share());
  }
}
