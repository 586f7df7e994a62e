import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { assertBuildIsFresh } from '../faults/support/built.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { type ServiceProcess, startService } from '../support/service-process.js';
import { RawSseClient } from '../support/sse-client.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples/nest-app');
/** Two npm installs from the registry, a pack and a build, at the lowest CPU priority. */
const SETUP_MS = 15 * 60_000;

const run = promisify(execFile);

/**
 * Runs `command` at the lowest CPU priority: the installs and the build take a core for a while,
 * and the timing-sensitive tests in the other jest worker need it more.
 */
async function sh(cwd: string, command: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('nice', ['-n', '19', command, ...args], {
    cwd,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** Every file below `dir`, as paths relative to it. */
function filesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/** The packages a compiled module loads: static, side-effect and dynamic imports, re-exports. */
function importedPackages(code: string): string[] {
  const specifiers = [
    ...code.matchAll(/\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/g),
  ]
    .map((match) => match[1] ?? match[2])
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:'));
  return specifiers.map((specifier) =>
    specifier
      .split('/')
      .slice(0, specifier.startsWith('@') ? 2 : 1)
      .join('/'),
  );
}

/** Every installed copy of `name` below `dir`, nested `node_modules` included. */
function installedCopies(name: string, dir: string): string[] {
  const modules = join(dir, 'node_modules');
  if (!existsSync(modules)) return [];
  const copies = existsSync(join(modules, name, 'package.json')) ? [join(modules, name)] : [];
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const packages = entry.name.startsWith('@')
      ? readdirSync(join(modules, entry.name)).map((scoped) => join(modules, entry.name, scoped))
      : [join(modules, entry.name)];
    for (const path of packages) copies.push(...installedCopies(name, path));
  }
  return copies;
}

/**
 * sse-bus as an app gets it: `npm pack`, then `examples/nest-app` (a copy of it) installs the
 * tarball next to its own locked dependencies, builds with tsc and runs against Redis.
 */
describe('the packed library in the example app', () => {
  let work: string;
  let unpacked: string;
  let app: string;

  beforeAll(async () => {
    // Packs what `npm test` has just built. Not through `prepack`: a rebuild would empty dist/
    // while other test files run dist/service/main.js.
    assertBuildIsFresh();
    work = mkdtempSync(join(tmpdir(), 'sse-bus-package-'));
    const [packed] = JSON.parse(
      await sh(ROOT, 'npm', 'pack', '--json', '--ignore-scripts', '--pack-destination', work),
    ) as [{ filename: string }];
    const tarball = join(work, packed.filename);
    unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    await sh(unpacked, 'tar', '-xzf', tarball, '--strip-components=1');

    app = join(work, 'nest-app');
    cpSync(EXAMPLE, app, {
      recursive: true,
      filter: (path) =>
        !['node_modules', 'dist'].includes(basename(path)) && !path.endsWith('.tgz'),
    });
    // The lockfile pins the app's dependencies; the tarball, new with every build, comes after.
    // --prefer-offline: packages already in npm's cache are not asked of the registry again.
    const flags = ['--no-audit', '--no-fund', '--prefer-offline'];
    await sh(app, 'npm', 'ci', ...flags);
    await sh(app, 'npm', 'install', '--no-save', ...flags, tarball);
    await sh(app, 'npm', 'run', 'build');
  }, SETUP_MS);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships ESM and declarations behind the exports map, with their sources, and no tests', () => {
    const files = filesIn(unpacked);
    const pkg = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8'));
    expect(pkg.exports['.']).toEqual({
      types: './dist/index.d.ts',
      import: './dist/index.js',
      default: './dist/index.js',
    });
    for (const target of Object.values<string>(pkg.exports['.'])) {
      expect(files).toContain(join(target));
    }
    expect(
      files.filter((file) => !/^(dist|src)\/|^(package\.json|README\.md)$/.test(file)),
    ).toEqual([]);
    expect(files.filter((file) => /\.spec\.|(^|\/)(test|bench|examples)\//.test(file))).toEqual([]);
    // The runnable service is one consumer of the library, not part of it.
    expect(files.filter((file) => /^(dist|src)\/service\//.test(file))).toEqual([]);

    // Every source map, of code or of declarations, points to files in the package.
    const maps = files.filter((file) => file.endsWith('.map'));
    expect(maps).toContain('dist/index.js.map');
    expect(maps).toContain('dist/index.d.ts.map');
    const missing = maps.flatMap((map) => {
      const { sources, sourceRoot = '' } = JSON.parse(readFileSync(join(unpacked, map), 'utf8'));
      return (sources as string[])
        .map((source) => relative(unpacked, resolve(unpacked, dirname(map), sourceRoot, source)))
        .filter((source) => !files.includes(source));
    });
    expect(missing).toEqual([]);

    // What the code loads at run time is a dependency or a peer, so the app gets it.
    const declared = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies });
    const undeclared = files
      .filter((file) => file.endsWith('.js'))
      .flatMap((file) =>
        importedPackages(readFileSync(join(unpacked, file), 'utf8'))
          .filter((name) => !declared.includes(name))
          .map((name) => `${file}: ${name}`),
      );
    expect(undeclared).toEqual([]);
  });

  it('installs reproducibly, with one copy of Nest and of rxjs', () => {
    for (const file of ['package.json', 'package-lock.json']) {
      expect(readFileSync(join(app, file), 'utf8')).toBe(readFileSync(join(EXAMPLE, file), 'utf8'));
    }
    expect(existsSync(join(app, 'node_modules/sse-bus/dist/index.js'))).toBe(true);
    for (const name of ['@nestjs/core', '@nestjs/common', 'rxjs']) {
      expect(installedCopies(name, app)).toEqual([join(app, 'node_modules', name)]);
    }
  });

  describe('running on Redis', () => {
    let redis: RedisServer;
    let service: ServiceProcess;
    const clients: RawSseClient[] = [];

    beforeAll(async () => {
      redis = await startRedis();
      service = await startService({ REDIS_URL: redis.url }, join(app, 'dist/main.js'));
    });

    afterAll(async () => {
      for (const client of clients) client.close();
      await service?.stop();
      await redis?.stop();
    });

    async function connect(query: string): Promise<RawSseClient> {
      const client = new RawSseClient(`${service.url}/news/events${query}`);
      clients.push(client);
      return client.opened();
    }

    async function post(path: string, text: string): Promise<string> {
      const response = await fetch(`${service.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      });
      expect(response.status).toBe(202);
      return ((await response.json()) as { id: string }).id;
    }

    it('delivers what its publisher sends to its own @Sse() endpoint, behind its own guard', async () => {
      expect((await connect('')).status).toBe(403);
      const alice = await connect('?user=alice');
      const bob = await connect('?user=bob');
      for (const client of [alice, bob]) {
        expect(client.status).toBe(200);
        await client.waitForEvent((e) => e.event === 'connected', 'connected');
      }

      const direct = await post('/news/to/alice', 'for alice');
      const broadcast = await post('/news', 'for everyone');

      const toAlice = await alice.waitForEvent((e) => e.id === direct, 'the direct message');
      expect(toAlice).toMatchObject({ event: 'direct', data: '{"text":"for alice"}' });
      for (const client of [alice, bob]) {
        const news = await client.waitForEvent((e) => e.id === broadcast, 'the news');
        expect(news).toEqual({ id: broadcast, data: '{"text":"for everyone"}' });
      }
      // The log is ordered: bob has the later broadcast, so the direct message was not for him.
      expect(bob.events.some((e) => e.id === direct)).toBe(false);
    });
  });
});
