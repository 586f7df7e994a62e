import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

/**
 * A module of the built library, as an app imports it. The compiled bench lives under
 * node_modules/, where Node does not resolve a package's own name, hence the path.
 */
export function importBuilt(path: string): Promise<unknown> {
  return import(pathToFileURL(join(ROOT, 'dist', path)).href);
}
