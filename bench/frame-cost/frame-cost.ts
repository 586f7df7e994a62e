/**
 * Instructions per delivered frame of `GET /sse/msg` on a log with one order, for two builds,
 * counted by callgrind: a count a busy machine does not move, where seconds would. Each build
 * runs twice, without messages and with them, and the difference is divided by the frames.
 *
 * `node frame-cost.js <dist-before> <dist-after> [streams] [messages]`
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [before, after, streams = '200', messages = '200'] = process.argv.slice(2);
const deliver = join(dirname(fileURLToPath(import.meta.url)), 'deliver.js');

function instructions(dist: string, count: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'frame-cost-'));
  try {
    const run = spawnSync(
      'valgrind',
      [
        '--tool=callgrind',
        '--smc-check=all-non-file',
        `--callgrind-out-file=${join(dir, 'out')}`,
        'node',
        '--single-threaded',
        deliver,
        dist,
        streams,
        count,
      ],
      { encoding: 'utf8' },
    );
    const match = /Collected : (\d+)/.exec(run.stderr);
    if (run.status !== 0 || !match) throw new Error(`callgrind failed: ${run.stderr.slice(-500)}`);
    return Number(match[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const frames = Number(streams) * Number(messages);
const perFrame = (dist: string) =>
  (instructions(dist, messages) - instructions(dist, '0')) / frames;
const [a, b] = [perFrame(before), perFrame(after)];
console.log(
  `instructions per frame (${streams} streams x ${messages} messages): ` +
    `before ${a.toFixed(0)}, after ${b.toFixed(0)}, ratio ${(b / a).toFixed(3)}`,
);
