import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Gauge, Histogram, Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import { BusTransport } from '../bus/bus-transport.js';
import { SseStreamService } from '../sse/sse-stream.service.js';
import { BusMetrics } from './bus-metrics.js';
import { processMetrics } from './process-metrics.js';
import { scrapedCounter, scrapedCounterBy } from './scraped-counter.js';

/**
 * The metrics of one app, in a registry of its own: Node's default metrics, and the bus's under
 * `sse_bus_`, read from `BusMetrics` when scraped.
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnModuleDestroy {
  private readonly registry: Registry;
  private readonly lagSeconds: Histogram;
  private lag: Subscription | undefined;

  constructor(
    private readonly transport: BusTransport,
    streams: SseStreamService,
    metrics: BusMetrics,
  ) {
    const registry = new Registry();
    new Gauge({
      name: 'sse_bus_open_streams',
      help: 'Streams open on this instance.',
      registers: [registry],
      collect() {
        this.set(streams.openStreams);
      },
    });
    scrapedCounter(
      registry,
      'sse_bus_streams_opened_total',
      'Streams opened.',
      () => metrics.streamsOpened,
    );
    scrapedCounterBy(
      registry,
      'sse_bus_streams_closed_total',
      'Streams ended, by why: client (left), slow (cut off), expired (token), shutdown, error.',
      'reason',
      metrics.streamsClosed,
    );
    scrapedCounterBy(
      registry,
      'sse_bus_streams_turned_away_total',
      'Streams refused, by why: full (SSE_MAX_CONNECTIONS) or shutdown.',
      'reason',
      metrics.streamsTurnedAway,
    );
    scrapedCounterBy(
      registry,
      'sse_bus_messages_published_total',
      'Messages published from this instance, by kind: broadcast, client or topic.',
      'kind',
      metrics.messagesPublished,
    );
    scrapedCounter(
      registry,
      'sse_bus_frames_delivered_total',
      'Live events handed to streams (one per stream an event reached).',
      () => metrics.framesDelivered,
    );
    scrapedCounter(
      registry,
      'sse_bus_frames_replayed_total',
      'Messages replayed from the history to resuming streams.',
      () => metrics.framesReplayed,
    );
    scrapedCounterBy(
      registry,
      'sse_bus_resets_total',
      'Reset events sent to streams, by why the history could not serve them.',
      'reason',
      metrics.resets,
    );
    scrapedCounter(
      registry,
      'sse_bus_redis_reconnects_total',
      'Connections to Redis established again after one was lost or replaced.',
      () => metrics.redisReconnects,
    );
    scrapedCounter(
      registry,
      'sse_bus_redis_read_bytes_total',
      "Bytes read from Redis by the connections that receive the log's live messages.",
      () => metrics.redisBytesRead.total,
    );
    registry.registerMetric(metrics.publishSeconds);
    this.lagSeconds = new Histogram({
      name: 'sse_bus_lag_seconds',
      help: 'Time from a message being published (on any instance) to this instance reading it.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
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
