import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './paths.js';

/**
 * A module of the built library (`dist/<path>`), as an app imports it. The compiled bench lives
 * under node_modules/, where Node does not resolve a package's own name, hence the path.
 */
export const built = (path: string): Promise<unknown> =>
  import(pathToFileURL(join(ROOT, 'dist', path)).href);
