/**
 * Loaded into every server under test (`node --expose-gc --import <this> …`), sse-bus and the
 * baselines alike. It does nothing until the bench sends SIGUSR2; then it runs a full GC and
 * writes memory use and event-loop delay since the last signal to $BENCH_STATS_FILE.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.BENCH_STATS_FILE;
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();

if (file) {
  process.on('SIGUSR2', () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    const before = process.memoryUsage();
    if (gc) {
      gc();
      gc();
    }
    const after = process.memoryUsage();
    writeFileSync(
      file,
      JSON.stringify({
        at: Date.now(),
        before,
        after,
        loopDelayMs: {
          p50: delay.percentile(50) / 1e6,
          p99: delay.percentile(99) / 1e6,
          max: delay.max / 1e6,
        },
      }),
    );
    delay.reset();
  });
}
