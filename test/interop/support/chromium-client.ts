import type { Browser } from 'playwright-core';
import type { InteropClient } from './interop-client.js';

/** The blank page a client runs in, on the stream's origin (the cookie's, and no CORS). */
const PAGE = '/interop-client';

/**
 * Runs `bundle` (see `pageBundle`) in a page of a browser context of its own (its own cookies,
 * its own connections) on `origin`, and opens the stream of `origin` + `path` with `token`.
 */
export async function openInChromium(
  browser: Browser,
  name: string,
  bundle: string,
  origin: string,
  path: string,
  token: string,
): Promise<InteropClient> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const data: unknown[] = [];
  const unparsed: string[] = [];
  await page.exposeFunction('received', (each: unknown) => data.push(each));
  await page.exposeFunction('unparsed', (text: string) => unparsed.push(text));
  await page.route(`${origin}${PAGE}`, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>client</title>' }),
  );
  await page.goto(`${origin}${PAGE}`);
  await page.addScriptTag({ content: bundle });
  await page.evaluate(
    ([url, secret]) =>
      (globalThis as unknown as { openStream: (...args: string[]) => void }).openStream(
        url,
        secret,
      ),
    [`${origin}${path}`, token],
  );
  return { name, data, unparsed, close: () => context.close() };
}
