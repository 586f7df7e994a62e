import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Fails unless `dist/` was built after the last change to `src/`: a child-process test run on a
 * stale build would test yesterday's code and pass or fail for the wrong reason.
 */
export function assertBuildIsFresh(): void {
  const built = mtime(join(ROOT, 'dist/service/main.js'));
  const newest = newestIn(join(ROOT, 'src'));
  if (built === undefined || built < newest.mtime) {
    throw new Error(
      `dist/ is older than ${newest.path}: run \`npm run build\` (which also copies the demo page) before these tests`,
    );
  }
}

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function newestIn(dir: string): { path: string; mtime: number } {
  let newest = { path: dir, mtime: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const candidate = entry.isDirectory()
      ? newestIn(path)
      : { path, mtime: statSync(path).mtimeMs };
    if (candidate.mtime > newest.mtime) newest = candidate;
  }
  return newest;
}
