import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { snippetPath } from './snippet.js';

const PARSE_EACH = fileURLToPath(new URL('./parse-each.ts', import.meta.url));

/**
 * The snippet `name`.js bundled with its library for a page, as an app's bundler would, with the
 * test's handler: `openStream(url, token)` opens it, and the handler reports to the page's
 * `received` and `unparsed` functions (bound to the test by Playwright).
 */
export async function pageBundle(name: string): Promise<string> {
  const entry = `
    import { listen } from ${JSON.stringify(snippetPath(`${name}.js`))};
    import { parseEach } from ${JSON.stringify(PARSE_EACH)};
    window.openStream = (url, token) => {
      window.closeStream = listen(url, token, parseEach(window.received, window.unparsed));
    };
  `;
  const result = await build({
    stdin: { contents: entry, resolveDir: fileURLToPath(new URL('.', import.meta.url)) },
    bundle: true,
    format: 'iife',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}
