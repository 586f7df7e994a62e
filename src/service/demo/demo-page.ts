import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/**
 * The demo page, `index.html` beside this file (the build copies it into `dist/`), with the
 * Content-Security-Policy that lets its own inline script and style and the browser client run
 * and nothing else: a message that made its way into the page as markup could not run a script.
 * The client is the bundle the build makes of `src/client/` (`dist/client/`), which the page
 * imports from this origin. Its `<body>` says whether the service has a publish token
 * (`data-publishing`), so that the page can say how to set one before anybody presses Publish.
 */
export class DemoPage {
  private constructor(
    readonly html: string,
    readonly contentSecurityPolicy: string,
    readonly client: string,
  ) {}

  static async load(publishing: boolean): Promise<DemoPage> {
    const [page, client] = await Promise.all(
      ['./index.html', '../../client/sse-bus-client.js'].map((path) =>
        readFile(new URL(path, import.meta.url), 'utf8'),
      ),
    );
    const html = page.replace('<body>', `<body data-publishing="${publishing}">`);
    const policy = [
      "default-src 'none'",
      `script-src 'self' ${hashesOf(html, 'script')}`,
      `style-src ${hashesOf(html, 'style')}`,
      // The stream and the publish route.
      "connect-src 'self'",
      "img-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; ');
    return new DemoPage(html, policy, client);
  }
}

/** CSP sources for the contents of the page's inline `<tag>` elements, as the browser hashes them. */
function hashesOf(html: string, tag: 'script' | 'style'): string {
  const bodies = [...html.matchAll(new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))];
  if (bodies.length === 0) return "'none'";
  return bodies
    .map(([, body]) => `'sha256-${createHash('sha256').update(body).digest('base64')}'`)
    .join(' ');
}
