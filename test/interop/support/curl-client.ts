import { spawn } from 'node:child_process';
import { SseParser } from '../../support/sse-parser.js';
import type { InteropClient } from './interop-client.js';
import { parseEach } from './parse-each.js';
import { snippetText } from './snippet.js';

/**
 * Runs the curl snippet in a shell, with `URL` and `TOKEN` set, and hands each event of its output
 * to the handler: a block without data, if the stream had one, would reach it too.
 */
export function openWithCurl(url: string, token: string): InteropClient {
  const data: unknown[] = [];
  const unparsed: string[] = [];
  const handle = parseEach(
    (each) => data.push(each),
    (text) => unparsed.push(text),
  );
  const parser = new SseParser(handle);
  const child = spawn('sh', ['-c', snippetText('curl.sh')], {
    env: { ...process.env, URL: url, TOKEN: token },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => parser.feed(chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    name: 'curl',
    data,
    unparsed,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      await exited;
    },
  };
}
