import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled bench (this file lives in `<out>/lib/`). */
export const OUT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The repository root: the nearest folder up whose package.json is sse-bus's. */
export const ROOT = findRoot(OUT_DIR);

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === 'sse-bus') return dir;
    }
    if (dirname(dir) === dir) throw new Error(`No sse-bus package.json above ${from}`);
  }
}

/** A compiled bench module, by its path under bench/ with a .js extension. */
export function compiled(path: string): string {
  return join(OUT_DIR, path);
}
