import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import { BusCounters } from '../bus/bus-counters.js';
import { BusTransport } from '../bus/bus-transport.js';
import { StreamRegistry } from '../sse/stream-registry.js';
import { BucketHistogram } from './bucket-histogram.js';
import { processMetrics } from './process-metrics.js';
import { PUBLISH_SECONDS } from './publish-seconds.js';
import { scrapedCounter } from './scraped-counter.js';

/**
 * The metrics of one app, in a registry of its own: Node's default metrics, and the bus's under
 * `sse_bus_`, read when scraped from what the bus (`BusCounters`) and the streams
 * (`StreamRegistry`) count.
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnModuleDestroy {
  private readonly registry: Registry;
  private readonly lagSeconds: BucketHistogram;
  private lag: Subscription | undefined;

  constructor(
    private readonly transport: BusTransport,
    streams: StreamRegistry,
    counters: BusCounters,
    @Inject(PUBLISH_SECONDS) publishSeconds: BucketHistogram,
  ) {
    const registry = new Registry();
    new Gauge({
      name: 'sse_bus_open_streams',
      help: 'Streams open on this instance.',
      registers: [registry],
      collect() {
        this.set(streams.size);
      },
    });
    const byReason = (counts: Readonly<Record<string, number>>) => ({ label: 'reason', counts });
    const counted: [string, string, Parameters<typeof scrapedCounter>[3]][] = [
      ['streams_opened', 'Streams opened.', () => streams.opened],
      [
        'streams_closed',
        'Streams ended, by why: client (left), slow (cut off), expired (token), shutdown, error.',
        byReason(streams.closed),
      ],
      [
        'streams_turned_away',
        'Streams refused, by why: full (maxConnections), shutdown or client (maxStreamsPerClient).',
        byReason(streams.turnedAway),
      ],
      [
        'messages_published',
        'Messages published from this instance, by kind: broadcast, client or topic.',
        { label: 'kind', counts: counters.messagesPublished },
      ],
      [
        'frames_delivered',
        'Live events handed to streams (one per stream an event reached).',
        () => counters.framesDelivered,
      ],
      [
        'frames_replayed',
        'Messages replayed from the history to resuming streams.',
        () => counters.framesReplayed,
      ],
      [
        'resets',
        'Reset events sent to streams, by why the history could not serve them.',
        byReason(counters.resets),
      ],
      [
        'redis_reconnects',
        'Connections to Redis established again after one was lost or replaced.',
        () => counters.redisReconnects,
      ],
      [
        'redis_read_bytes',
        "Bytes read from Redis by the connections that receive the log's live messages.",
        () => counters.redisBytesRead.total,
      ],
    ];
    for (const [name, help, count] of counted) {
      scrapedCounter(registry, `sse_bus_${name}_total`, help, count);
    }
    publishSeconds.register(registry);
    this.lagSeconds = new BucketHistogram(
      'sse_bus_lag_seconds',
      'Time from a message being published (on any instance) to this instance reading it.',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
    this.lagSeconds.register(registry);
    this.registry = Registry.merge([processMetrics(), registry]);
  }

  /** Every metric, in Prometheus's text format. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Observes the lag of every message this instance reads, once per message: an event id holds
   * the time its message was published, in ms (on Redis, by the Redis server's clock).
   */
  onModuleInit(): void {
    this.lag = this.transport.events$.subscribe((event) => {
      if (event.kind === 'message') {
        this.lagSeconds.observe(Math.max(0, Date.now() - event.position.ms) / 1000);
      }
    });
  }

  onModuleDestroy(): void {
    this.lag?.unsubscribe();
  }
}
