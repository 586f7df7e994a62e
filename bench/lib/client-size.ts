import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { ROOT } from './paths.js';

/** Bytes a browser downloads for a client: minified, bundled with what it imports, gzipped. */
export interface ClientSize {
  sseBusClient: number;
  fetchEventSource: number;
}

const gzipped = (code: Uint8Array) => gzipSync(code, { level: 9 }).length;

/**
 * `sse-bus/client` as the build bundled it (dist/client/), beside `@microsoft/fetch-event-source`
 * bundled and minified the same way (esbuild, ESM): the client people pick to send a header.
 */
export async function measureClientSize(): Promise<ClientSize> {
  const fetchEventSource = await build({
    stdin: {
      contents: "export { fetchEventSource } from '@microsoft/fetch-event-source';",
      resolveDir: ROOT,
    },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    write: false,
  });
  return {
    sseBusClient: gzipped(readFileSync(join(ROOT, 'dist/client/sse-bus-client.js'))),
    fetchEventSource: gzipped(fetchEventSource.outputFiles[0].contents),
  };
}

export function clientSizeLine({ sseBusClient, fetchEventSource }: ClientSize): string {
  return `client: sse-bus/client ${sseBusClient} B gzipped, @microsoft/fetch-event-source ${fetchEventSource} B`;
}
