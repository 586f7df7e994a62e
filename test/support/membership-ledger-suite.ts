import { setTimeout as sleep } from 'node:timers/promises';
import { LedgerTab } from './ledger-tab.js';
import { type Channel, LedgerTraffic, type Publisher } from './ledger-traffic.js';
import {
  type LedgerRule,
  type LoggedChange,
  auditStream,
  failedAudits,
  spanOf,
} from './membership-ledger.js';
import { postTopicChange, publishTo } from './publish.js';
import { type TestApp, startApp } from './test-app.js';
import { signToken } from './tokens.js';

const SECRET = 'ledger-secret';
const TOKEN = 'ledger-publish-token';
/** Between two steps of the scenario: time for messages to flow. */
const STEP_MS = 300;
const PACE_MS = 4;

const CHANNELS: Channel[] = [
  ['news', null, ['news']],
  ['t1', null, ['t1']],
  ['all', null, null],
  ['sport', null, ['sport']],
  ['t2', null, ['t2']],
  ['alice', ['alice'], null],
  ['t1+sport', null, ['t1', 'sport']],
  ['t3', null, ['t3']],
  ['bob', ['bob'], null],
  ['alice@t2', ['alice'], ['t2']],
].map(([name, to, topics]) => ({ name, to, topics }) as Channel);

/** Alice's topic changes, in turn from A (in process) and B (over HTTP). */
const CHANGES: { join?: string[]; leave?: string[] }[] = [
  { join: ['t1'] },
  { leave: ['news'] },
  { join: ['t2'], leave: ['sport'] },
  { leave: ['t1'] },
  { join: ['news', 't1'] },
  { leave: ['t2'] },
  { join: ['sport'], leave: ['t1'] },
  { join: ['t2'] },
  { leave: ['news', 'sport'] },
  { join: ['t1'], leave: ['t2'] },
  { join: ['news'] },
  { leave: ['t1'] },
];

export interface LedgerDeployment {
  /** Starts the Redis both instances use (at `url`). */
  startRedis(): Promise<{ readonly url: string; stop(): Promise<void> }>;
  /** What each stream should have got. */
  readonly rule: LedgerRule;
  /** Channels of the traffic this deployment does not send (its README limits). */
  readonly without?: readonly string[];
}

/**
 * The ledger suite on two instances A and B over the Redis `deployment` starts: Alice's three
 * tabs (two on A, one on B) and Bob's one on B take traffic from a publisher on each instance
 * while Alice's topics are joined and left from both, her tabs reconnecting around each change;
 * then every connection's ledger is checked.
 */
export function describeMembershipLedger(title: string, deployment: LedgerDeployment): void {
  describe(title, () => {
    let redis: { url: string; stop(): Promise<void> };
    let a: TestApp;
    let b: TestApp;
    const tabs: LedgerTab[] = [];
    let running: LedgerTraffic | undefined;

    beforeAll(async () => {
      redis = await deployment.startRedis();
      const options = {
        redisUrl: redis.url,
        redisKeyPrefix: 'ledger',
        jwtSecret: SECRET,
        publishToken: TOKEN,
      };
      [a, b] = await Promise.all([startApp(options), startApp(options)]);
    });
    afterAll(async () => {
      // Stopped already unless the test failed on the way; a publish's failure then is no news.
      await running?.stop().catch(() => undefined);
      tabs.forEach((tab) => tab.close());
      await Promise.all([a?.close(), b?.close()]);
      await redis?.stop();
    });

    const tab = async (name: string, app: TestApp, clientId: string, asked: string[]) => {
      const token = await signToken(SECRET, clientId, 600, { topics: asked });
      const opened = new LedgerTab(name, clientId, asked, app.url, token);
      tabs.push(opened);
      await opened.open();
      return opened;
    };

    it('gives every stream what the log says, while topics are joined and left and tabs reconnect', async () => {
      const alice = [
        await tab('alice-A1', a, 'alice', ['news', 'sport']),
        await tab('alice-A2', a, 'alice', ['news']),
        await tab('alice-B1', b, 'alice', ['sport']),
      ];
      const bob = await tab('bob-B', b, 'bob', ['news', 't1']);
      const publishers: Publisher[] = [
        { name: 'A', publish: (data, { to, topics }) => a.bus.publish(data, aimed(to, topics)) },
        {
          name: 'B',
          publish: (data, { to, topics }) =>
            publishTo(b.url, TOKEN, { data, ...aimed(to, topics) }),
        },
      ];
      const traffic = (running = new LedgerTraffic(
        publishers,
        CHANNELS.filter(({ name }) => !deployment.without?.includes(name)),
        PACE_MS,
      ));
      const changes: LoggedChange[] = [];
      const change = async (i: number) => {
        const { join = [], leave = [] } = CHANGES[i];
        await traffic.issuedOn([...join, ...leave]);
        const issuedAt = performance.now();
        const id = await (i % 2
          ? changeOverHttp(b, { join, leave })
          : a.bus.changeTopics('alice', { join, leave }));
        const resolvedAt = performance.now();
        changes.push({
          clientId: 'alice',
          join,
          leave,
          id,
          to: ['alice'],
          topics: null,
          issuedAt,
          resolvedAt,
        });
      };

      for (let i = 0; i < CHANGES.length; i++) {
        const [x, y, z] = [0, 1, 2].map((k) => alice[(i + k) % 3]);
        await sleep(STEP_MS);
        // Before the change, z reloads (a fresh stream) or reconnects, and is open through it.
        await (i % 2 ? z.open() : z.open(z.lastId));
        x.close();
        const beforeChange = y.lastId;
        await sleep(STEP_MS);
        await change(i);
        await sleep(STEP_MS);
        await x.open(x.lastId); // away during the change: resumes from before it
        await y.open(beforeChange); // got past the change, resumes from an id before it
        await sleep(STEP_MS);
        // At once, from the id it just got, on the other instance (as behind a load balancer),
        // which may not have read that far yet.
        await z.open(z.lastId, z.home === a.url ? b.url : a.url);
      }
      await traffic.stop();
      await a.bus.publish({ marker: 'end' });
      await Promise.all([...alice, bob].map((each) => each.received('end')));
      tabs.forEach((each) => each.close());

      const { sent } = traffic;
      const streams = [...alice, bob].flatMap((each) => each.connections);
      const audits = streams.map((stream) => auditStream(deployment.rule, stream, sent, changes));
      expect(failedAudits(audits)).toEqual([]);
      expect([...alice, bob].map((each) => each.errors)).toEqual([0, 0, 0, 0]);

      // The ledger proves something: messages on the changed topics were in flight with each
      // change, and the changes moved what each of Alice's tabs should have got.
      for (const made of changes) {
        const changed = new Set([...made.join, ...made.leave]);
        const inFlight = sent.filter(
          (m) =>
            m.topics?.some((topic) => changed.has(topic)) &&
            m.issuedAt < made.resolvedAt &&
            m.resolvedAt > made.issuedAt,
        );
        expect(inFlight.length).toBeGreaterThan(0);
      }
      for (const each of alice) {
        const decidedByChanges = each.connections.flatMap((stream) => {
          const span = spanOf(stream);
          return sent.filter(
            (m) =>
              deployment.rule.shouldGet(m, span, changes) !==
              deployment.rule.shouldGet(m, span, []),
          );
        });
        expect(decidedByChanges.length).toBeGreaterThan(0);
        expect(each.connections.length).toBeGreaterThan(CHANGES.length);
      }
      expect(audits.reduce((sum, audit) => sum + audit.received, 0)).toBeGreaterThan(1000);
    }, 120_000);
  });
}

function aimed(to: readonly string[] | null, topics: readonly string[] | null) {
  return { clientId: to ? [...to] : undefined, topic: topics ? [...topics] : undefined };
}

async function changeOverHttp(app: TestApp, body: { join: string[]; leave: string[] }) {
  const answer = await postTopicChange(app.url, TOKEN, 'alice', body);
  if (answer.status !== 202) throw new Error(`${answer.status}: ${answer.body.message}`);
  return answer.body.id!;
}
