import { IdempotencyKeyReusedError } from '../../src/index.js';
import { SeenKeys } from '../../src/bus/transports/seen-keys.js';

const key = (name: string, fingerprint = 'f') => ({ key: name, fingerprint });

describe('SeenKeys', () => {
  it('answers the id a key was given, within the window only', () => {
    const seen = new SeenKeys({ windowMs: 100, maxKeys: 10 });
    expect(seen.idOf(key('a'), 1000)).toBeUndefined();
    seen.remember(key('a'), 'id-a', 1000);
    expect(seen.idOf(key('a'), 1099)).toBe('id-a');
    expect(seen.idOf(key('a'), 1100)).toBeUndefined();
  });

  it('refuses a key seen with another message', () => {
    const seen = new SeenKeys({ windowMs: 100, maxKeys: 10 });
    seen.remember(key('a', 'print-1'), 'id-a', 1000);
    expect(() => seen.idOf(key('a', 'print-2'), 1001)).toThrow(IdempotencyKeyReusedError);
  });

  it('forgets the oldest key past maxKeys', () => {
    const seen = new SeenKeys({ windowMs: 100_000, maxKeys: 2 });
    for (const [n, name] of ['a', 'b', 'c'].entries()) seen.remember(key(name), `id-${name}`, n);
    expect(seen.idOf(key('a'), 10)).toBeUndefined();
    expect(seen.idOf(key('b'), 10)).toBe('id-b');
    expect(seen.idOf(key('c'), 10)).toBe('id-c');
  });
});
