import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { assertBuildIsFresh } from '../faults/support/built.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('the typed events, as an app imports them', () => {
  it.each([
    [
      "sse-bus/client's: each event's data from the map given to connect<Events>(), and refuse what does not fit",
      'test/client-types',
    ],
    [
      "sse-bus's MessageBus<Events, Topic>: the data of each event and the topics of publish() and sse(), untyped use as before",
      'test/bus-types',
    ],
  ])('type %s', async (_, folder) => {
    // The folder imports the package (`sse-bus`, `sse-bus/client`): the declarations the build
    // wrote, through its exports. Every `@ts-expect-error` there must meet an error.
    assertBuildIsFresh();
    const tsc = join(ROOT, 'node_modules/.bin/tsc');
    const answer = await promisify(execFile)(tsc, ['-p', `${folder}/tsconfig.json`], {
      cwd: ROOT,
    }).then(
      () => '',
      (err: { stdout: string }) => err.stdout,
    );
    expect(answer).toBe('');
  });
});
