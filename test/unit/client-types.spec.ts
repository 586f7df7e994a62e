import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { assertBuildIsFresh } from '../faults/support/built.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe("sse-bus/client's types, as an app imports them", () => {
  it("type each event's data from the map given to connect<Events>(), and refuse what does not fit", async () => {
    // test/client-types/ imports `sse-bus/client`: the declarations the build wrote, through the
    // package's exports.
    assertBuildIsFresh();
    const tsc = join(ROOT, 'node_modules/.bin/tsc');
    const answer = await promisify(execFile)(tsc, ['-p', 'test/client-types/tsconfig.json'], {
      cwd: ROOT,
    }).then(
      () => '',
      (err: { stdout: string }) => err.stdout,
    );
    expect(answer).toBe('');
  });
});
