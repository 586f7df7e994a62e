/** The section of docs/benchmarks.md on the reconnect storm with resume (`resume-storm.ts`). */
import type { BenchResult } from './results.js';
import { fmt, table } from './report-parts.js';

/**
 * From the last of `sources` that ran the step (a run of it alone, given beside the main
 * results, is newer than the main run's own); nothing when none did.
 */
export function resumeStormSection(sources: { result: BenchResult; path: string }[]): string {
  const source = [...sources].reverse().find((s) => s.result.resumeStorm);
  if (!source) return '';
  const storm = source.result.resumeStorm!;
  const { resume, fresh } = storm;
  const survivors = storm.instances - 1;
  const out = [
    '## Reconnect storm with resume',
    '',
    `${storm.instances} sse-bus instances through one redis-server; ${fmt(storm.n, 0)} clients on the first, which is SIGKILLed. ` +
      `${storm.missed} messages are published through the others while its clients are away; then they reconnect, spread evenly ` +
      `over ${fmt(storm.jitterMs, 0)} ms and over the ${survivors} survivors, each with the Last-Event-ID of the last event it got, and must ` +
      `each get the ${storm.missed} messages it missed, once and in order (a repeat, a miss, a message out of order or a reset counts as a violation). ` +
      `Beside it, ${fmt(storm.n, 0)} fresh connections on the same survivors within the same window, until each has its \`connected\` event. ` +
      'Redis use is what redis-server ran during each phase (`INFO commandstats`), per client: history pages read (the history script, the only one to run `XRANGE`); ' +
      'calls (script calls and the readers’ `XREAD`, every round trip the instances make); commands, those run inside scripts included ' +
      '(presence counts each new stream in its refresh script: a fresh connection costs it too). A connect turned away is tried again after 3 s, as an EventSource would. ' +
      `From \`${source.path}\` (\`${source.result.meta.command}\`).`,
    '',
    table(
      [
        '',
        'Clients',
        `All done, from the first connect (ms, window ${fmt(storm.jitterMs, 0)})`,
        'Each, connect to done p50 / p99 (ms)',
        'Failed (retries)',
        'Violations',
        'History reads per client',
        'Redis calls / commands per client',
        'Survivors’ CPU (ms)',
      ],
      [
        [
          `resume, ${storm.missed} missed`,
          `${fmt(resume.caughtUp, 0)} / ${fmt(storm.n, 0)}`,
          fmt(resume.allCaughtUpMs, 0),
          `${fmt(resume.catchUpMs.p50)} / ${fmt(resume.catchUpMs.p99)}`,
          `${fmt(resume.failed, 0)} (${fmt(resume.retries, 0)})`,
          fmt(resume.violations, 0),
          fmt(resume.redis.historyReadsPerClient, 4),
          `${fmt(resume.redis.callsPerClient, 4)} / ${fmt(resume.redis.commandsPerClient, 4)}`,
          fmt(resume.serverCpuMs, 0),
        ],
        [
          'fresh',
          `${fmt(fresh.connected, 0)} / ${fmt(storm.n, 0)}`,
          fmt(fresh.allConnectedMs, 0),
          `${fmt(fresh.connectMs.p50)} / ${fmt(fresh.connectMs.p99)}`,
          `${fmt(fresh.failed, 0)} (${fmt(fresh.retries, 0)})`,
          '–',
          fmt(fresh.redis.historyReadsPerClient, 4),
          `${fmt(fresh.redis.callsPerClient, 4)} / ${fmt(fresh.redis.commandsPerClient, 4)}`,
          fmt(fresh.serverCpuMs, 0),
        ],
      ],
    ),
    '',
  ];
  return out.join('\n');
}
