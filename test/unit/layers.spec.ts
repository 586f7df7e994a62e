import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/**
 * The layer check of `npm run lint` (dependency-cruiser, `.dependency-cruiser.js`), run on a copy
 * of src/ with one import added: the copy, not src/ itself, so that nothing else running sees it.
 */
async function lintWith(file: string, line: string): Promise<{ failed: boolean; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sse-bus-layers-'));
  try {
    cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
    for (const config of ['.dependency-cruiser.js', 'tsconfig.json', 'tsconfig.build.json']) {
      cpSync(join(ROOT, config), join(dir, config));
    }
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    if (line) appendFileSync(join(dir, 'src', file), `\n${line}\n`);
    const depcruise = join(ROOT, 'node_modules/.bin/depcruise');
    const answer = await run(depcruise, ['src', '--config', '.dependency-cruiser.js'], {
      cwd: dir,
    }).then(
      ({ stdout }) => ({ failed: false, output: stdout }),
      (err: { stdout: string }) => ({ failed: true, output: err.stdout }),
    );
    return answer;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the layers, as npm run lint checks them', () => {
  it('hold in src/ as it is', async () => {
    const { failed, output } = await lintWith('index.ts', '');
    expect(output).toMatch(/no dependency violations/);
    expect(failed).toBe(false);
  });

  it.each([
    [
      'the bus importing the HTTP side',
      'bus/bus-event.ts',
      "import '../sse/sse-frame.js';",
      'layer-bus',
    ],
    [
      'config importing the bus',
      'config/sse-bus.options.ts',
      "import type { BusEvent } from '../bus/bus-event.js';\nexport type Seen = BusEvent;",
      'layer-config',
    ],
    [
      'metrics importing the facade',
      'metrics/scraped-counter.ts',
      "import '../message-bus.js';",
      'layer-metrics',
    ],
    [
      'the library importing the service',
      'message-bus.ts',
      "import './service/env.config.js';",
      'layer-facade',
    ],
    [
      'the streams importing Redis',
      'sse/heartbeat.ts',
      "import '../redis/deadline.js';",
      'streams-know-no-redis',
    ],
    [
      'the bus importing a transport',
      'bus/stream-feed.ts',
      "import './transports/memory.transport.js';",
      'transports-behind-their-interface',
    ],
    ['a file cycle', 'bus/channels.ts', "import './visibility.js';", 'no-circular'],
    [
      'the browser client importing the library',
      'client/connect.ts',
      "import '../bus/topics.js';",
      'client-stands-alone',
    ],
    [
      'the browser client importing a package',
      'client/connect.ts',
      "import 'rxjs';",
      'client-stands-alone',
    ],
    [
      'the service importing the browser client',
      'service/demo/demo-page.ts',
      "import '../../client/connect.js';",
      'nothing-imports-the-client',
    ],
  ])('fail on %s', async (_, file, line, rule) => {
    const { failed, output } = await lintWith(file, line);
    expect(failed).toBe(true);
    expect(output).toContain(rule);
  });
});
