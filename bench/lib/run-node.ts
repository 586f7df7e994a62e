import { spawn } from 'node:child_process';

/**
 * Runs `node [flags] <script> <argument>` (pinned to `cpu`) to its end; resolves to what it
 * printed.
 */
export function runNode(
  script: string,
  argument: string,
  cpu: string | undefined,
  flags: string[] = [],
): Promise<string> {
  const args = [...flags, script, argument];
  const child = cpu
    ? spawn('taskset', ['-c', cpu, process.execPath, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code, signal) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`exited (${code ?? signal}): ${stderr.slice(-2000)}`)),
    ),
  );
}
