import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import { LazyRequestLogger } from '../../src/service/logging/lazy-request-logger.js';

/** A pino logger at `info` writing to `lines`, which counts the children made of it. */
function service() {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'info' }, out);
  const made = { children: 0 };
  const child = logger.child.bind(logger);
  logger.child = ((...args: Parameters<Logger['child']>) => {
    made.children++;
    return child(...args);
  }) as Logger['child'];
  return { logger, lines, made };
}

describe('LazyRequestLogger', () => {
  it('makes no child for lines below the level, nor for none', () => {
    const { logger, lines, made } = service();
    const log = LazyRequestLogger.of(logger, { reqId: 'r1' }, {});
    log.debug({ req: {} }, 'incoming request');
    log.trace('more');
    expect(made.children).toBe(0);
    expect(lines).toEqual([]);
    expect(log.level).toBe('info');
  });

  it('writes the lines at the level with the bindings, through one child', () => {
    const { logger, lines, made } = service();
    const log = LazyRequestLogger.of(logger, { reqId: 'r2' }, {});
    log.info({ res: { statusCode: 401 } }, 'request completed');
    log.error(new Error('broken'), 'request errored');
    expect(made.children).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, reqId: 'r2', msg: 'request completed' }),
      expect.objectContaining({
        level: 50,
        reqId: 'r2',
        msg: 'request errored',
        err: expect.objectContaining({ message: 'broken', stack: expect.any(String) }),
      }),
    ]);
  });

  it("follows a level set on it, as the child's own", () => {
    const { logger, lines } = service();
    const log = LazyRequestLogger.of(logger, { reqId: 'r3' }, {});
    log.level = 'debug';
    log.debug('now on');
    expect(lines).toEqual([expect.objectContaining({ reqId: 'r3', msg: 'now on' })]);
    expect(logger.level).toBe('info');
  });

  it('gives a route with a level of its own its child at once', () => {
    const { logger, made } = service();
    const log = LazyRequestLogger.of(logger, { reqId: 'r4' }, { level: 'debug' });
    expect(made.children).toBe(1);
    expect(log.level).toBe('debug');
  });
});
