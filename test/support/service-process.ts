import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { accepts } from './accepts.js';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

const MAIN = fileURLToPath(new URL('../../dist/service/main.js', import.meta.url));

export interface ServiceProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything it printed, stdout and stderr. */
  output(): string;
  /** Sends `signal` and resolves to the exit code once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs the service (`node dist/service/main.js`) as its own process, on a free port unless `env.PORT`
 * names one (to start an instance again where it was); or `script`, another app that listens on
 * `HOST` and `PORT` too.
 */
export async function startService(
  env: Record<string, string> = {},
  script = MAIN,
): Promise<ServiceProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  let output = '';
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  // Listening, whatever LOG_LEVEL lets it print.
  await waitFor(
    () => child.exitCode !== null || accepts(port),
    `the service on port ${port}`,
    20_000,
  ).catch((err: unknown) => {
    // Nobody else would stop it.
    child.kill('SIGKILL');
    throw err;
  });
  if (child.exitCode !== null) throw new Error(`The service exited: ${output}`);
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the service expecting it to refuse to start; resolves to its exit code and output. */
export function runService(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}
