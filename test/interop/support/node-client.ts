import type { InteropClient, Listen } from './interop-client.js';
import { parseEach } from './parse-each.js';
import { snippetPath } from './snippet.js';

/** Runs the snippet `name`.js in this process, against `url` with `token`. */
export async function openInNode(name: string, url: string, token: string): Promise<InteropClient> {
  const { listen } = (await import(snippetPath(`${name}.js`))) as { listen: Listen };
  const data: unknown[] = [];
  const unparsed: string[] = [];
  const close = listen(
    url,
    token,
    parseEach(
      (each) => data.push(each),
      (text) => unparsed.push(text),
    ),
  );
  return { name, data, unparsed, close: async () => close() };
}
