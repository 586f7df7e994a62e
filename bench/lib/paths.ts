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
 * The build the bench loads: $SSE_BUS_DIST when set (`--before DIR` sets it for the previous
 * build's servers), else this checkout's dist/.
 */
export function builtDir(): string {
  return process.env.SSE_BUS_DIST ?? join(ROOT, 'dist');
}

/**
 * The first of `paths` that `dist` has: a module the redesign moved (the service's files went
 * under service/) is found in a build from before it too.
 */
export function builtFile(dist: string, ...paths: string[]): string {
  const found = paths.map((path) => join(dist, path)).find((file) => existsSync(file));
  if (!found) throw new Error(`${dist} has none of ${paths.join(', ')}`);
  return found;
}

/**
 * The Node flags `npm start` runs the service with (package.json's `start`): the bench runs the
 * service as it ships.
 */
export function startFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  return scripts.start.split(' ').filter((word) => word.startsWith('--'));
}

/** The service's entry point in `dist`. */
export const serviceEntry = (dist: string) => builtFile(dist, 'service/main.js', 'main.js');

/**
 * A module of the built library, as an app imports it, by its path under dist/ or the first of
 * several. The compiled bench lives under node_modules/, where Node does not resolve a package's
 * own name, hence the path.
 */
export function importBuilt(...paths: string[]): Promise<unknown> {
  return import(pathToFileURL(builtFile(builtDir(), ...paths)).href);
}
