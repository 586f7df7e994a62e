import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts } from './accepts.js';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

export const NGINX = '/usr/sbin/nginx';

export interface NginxServer {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Debian's nginx (`apt-get install nginx`) as a child process of the test, in a directory of its
 * own: `site` is what goes in its `http` block, after `http` (settings the site must hold
 * against). `site` listens where `listen(port)` says.
 */
export async function startNginx(
  site: (listen: string) => string,
  http = '',
): Promise<NginxServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sse-bus-nginx-'));
  const errorLog = join(dir, 'error.log');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `${kind}_temp_path ${join(dir, kind)};`)
    .join('\n  ');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${errorLog} info;
events { worker_connections 256; }
http {
  access_log off;
  ${temp}
  ${http}
  ${site(`127.0.0.1:${port}`)}
}
`,
  );
  let output = '';
  const child: ChildProcess = spawn(
    NGINX,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', errorLog, '-g', 'daemon off;'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  await waitFor(() => child.exitCode !== null || accepts(port), `nginx on port ${port}`).catch(
    (err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    },
  );
  if (child.exitCode !== null) {
    await stop();
    throw new Error(`nginx exited: ${output}`);
  }
  return { url: `http://127.0.0.1:${port}`, stop };
}
