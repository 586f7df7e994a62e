/**
 * Instructions per delivered frame of `GET /sse/msg` on a log with one order, for two builds,
 * counted by callgrind: a count a busy machine does not move, where seconds would. Each build
 * delivers `messages` broadcasts to `streams` streams after a warm-up, and what the delivery
 * alone cost is divided by the frames: the median of three runs each.
 *
 * `node frame-cost.js <dist-before> <dist-after> [streams] [messages]`
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [before, after, streams = '200', messages = '200'] = process.argv.slice(2);
const deliver = join(dirname(fileURLToPath(import.meta.url)), 'deliver.js');

/**
 * Instructions between the two marks `deliver.js` makes (`process.cpuUsage()`, which calls
 * `uv_getrusage`): callgrind dumps its counts before each call, so the last numbered dump is the
 * delivery alone, without the start-up, whose count varies by more from run to run than the
 * frames themselves cost.
 */
function instructions(dist: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'frame-cost-'));
  try {
    const run = spawnSync(
      'valgrind',
      [
        '--tool=callgrind',
        '--smc-check=all-non-file',
        '--dump-before=uv_getrusage',
        `--callgrind-out-file=${join(dir, 'out')}`,
        'node',
        '--single-threaded',
        deliver,
        dist,
        streams,
        messages,
      ],
      { encoding: 'utf8' },
    );
    const dumps = readdirSync(dir).filter((name) => /^out\.\d+$/.test(name));
    const last = dumps.sort((x, y) => Number(x.slice(4)) - Number(y.slice(4))).pop();
    const totals = last && /^totals: (\d+)$/m.exec(readFileSync(join(dir, last), 'utf8'));
    if (run.status !== 0 || !totals) throw new Error(`callgrind failed: ${run.stderr.slice(-500)}`);
    return Number(totals[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const frames = Number(streams) * Number(messages);
// A run now and then takes a garbage collection or a recompilation more than the others: the
// median of three, the builds taking turns.
const runs = [0, 1, 2].map(() => [instructions(before), instructions(after)]);
const median = (values: number[]) => values.sort((x, y) => x - y)[1] / frames;
const [a, b] = [median(runs.map(([x]) => x)), median(runs.map(([, y]) => y))];
console.log(
  `instructions per frame (${streams} streams x ${messages} messages): ` +
    `before ${a.toFixed(0)}, after ${b.toFixed(0)}, ratio ${(b / a).toFixed(3)}`,
);
