/**
 * The top functions of a `node --cpu-prof` profile by self time, busy samples only (idle left
 * out), after its first `skipMs` (start-up): the table docs/benchmarks.md shows of a publish.
 *
 * `node node_modules/.cache/sse-bus-bench/bench/profile/cpu-profile-summary.js FILE [TOP] [SKIP_MS]`
 * after `npx tsc -p bench/tsconfig.json`. Servers of the bench are profiled with
 * `BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR"`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, top = '25', skip = '3000'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));

/** `function file:line`, the file as its package and last folders. */
function nameOf({ functionName, url, lineNumber }: ProfileNode['callFrame']): string {
  const path = url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '');
  return `${functionName || '(anonymous)'} ${path.split('/').slice(-3).join('/')}:${lineNumber + 1}`;
}

const self = new Map<string, number>();
let busy = 0;
let at = 0;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i];
  const delta = profile.timeDeltas[i + 1] ?? 0;
  const frame = byId.get(id)!.callFrame;
  if (at < Number(skip) * 1000 || frame.functionName === '(idle)') return;
  busy += delta;
  const name = nameOf(frame);
  self.set(name, (self.get(name) ?? 0) + delta);
});
console.log(`| Self time (% of busy, ${(busy / 1000).toFixed(0)} ms) | Function |`);
console.log('| ---: | --- |');
for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
  console.log(`| ${((100 * us) / busy).toFixed(1)}% | \`${name}\` |`);
}
