import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A client's snippet in examples/clients/: the code the README shows and the interop test runs.
 * `file` names it, with its extension.
 */
export function snippetPath(file: string): string {
  return fileURLToPath(new URL(`../../../examples/clients/${file}`, import.meta.url));
}

export function snippetText(file: string): string {
  return readFileSync(snippetPath(file), 'utf8');
}
