import {
  InvalidMessageError,
  MessageTooLargeError,
  TooManyRecipientsError,
} from '../../src/index.js';
import { toOutgoingMessage } from '../../src/bus/message-validation.js';

describe('toOutgoingMessage', () => {
  it('serializes data once and keeps a broadcast addressed to nobody in particular', () => {
    expect(toOutgoingMessage({ a: [1, null] }, {}, 100)).toEqual({
      to: null,
      topics: null,
      event: undefined,
      data: '{"a":[1,null]}',
    });
  });

  it('takes one client id or several, without duplicates', () => {
    expect(toOutgoingMessage(1, { clientId: 'a' }, 100).to).toEqual(['a']);
    expect(toOutgoingMessage(1, { clientId: ['a', 'b', 'a'] }, 100).to).toEqual(['a', 'b']);
  });

  it.each([
    [undefined, {}, /JSON value/],
    [() => 1, {}, /JSON value/],
    [10n, {}, /not JSON-serializable/],
    [1, { event: '' }, /event must be/],
    [1, { event: 'connected' }, /reserved/],
    [1, { event: 'closing' }, /reserved/],
    [1, { event: 'state' }, /reserved/],
    [1, { event: 'has space' }, /event must be/],
    [1, { clientId: [] }, /empty list/],
    [1, { clientId: '' }, /1 to 256/],
    [1, { clientId: 'tab\there' }, /control characters/],
    [1, { clientId: 'c1\u0085' }, /control characters/],
    [1, { topic: [] }, /empty list/],
    [1, { topic: '' }, /1 to 128/],
    [1, { topic: 'x'.repeat(129) }, /1 to 128/],
    [1, { topic: 'a\nid: 1' }, /1 to 128 of/],
    [1, { topic: '{tag}' }, /1 to 128 of/],
    [1, { topic: 'two words' }, /1 to 128 of/],
    [1, { topic: 7 }, /must be a string/],
    [1, { topic: Array.from({ length: 33 }, (_, n) => `t${n}`) }, /at most 32/],
  ])('refuses %p with %p', (data, options, message) => {
    expect(() => toOutgoingMessage(data, options as never, 100)).toThrow(InvalidMessageError);
    expect(() => toOutgoingMessage(data, options as never, 100)).toThrow(message);
  });

  it('takes one topic or several, without duplicates, of any of [A-Za-z0-9_.:/-]', () => {
    expect(toOutgoingMessage(1, { topic: 'orders/42:v1.x_y-z' }, 100).topics).toEqual([
      'orders/42:v1.x_y-z',
    ]);
    expect(toOutgoingMessage(1, { topic: ['a', 'b', 'a'] }, 100).topics).toEqual(['a', 'b']);
  });

  it('refuses a cyclic value', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => toOutgoingMessage(cyclic, {}, 100)).toThrow(/not JSON-serializable/);
  });

  it('counts the size in bytes of JSON, not characters', () => {
    expect(() => toOutgoingMessage('é'.repeat(5), {}, 11)).toThrow(MessageTooLargeError);
    expect(toOutgoingMessage('é'.repeat(5), {}, 12).data).toBe('"ééééé"');
  });

  it('counts client ids, topics and the event name toward the size, with the data', () => {
    const options = { clientId: ['ab', 'cd'], topic: 'ef', event: 'gh' };
    // 3 bytes of data and 8 of names.
    expect(() => toOutgoingMessage('x', options, 10)).toThrow(/11 bytes.*limit of 10/);
    expect(toOutgoingMessage('x', options, 11).data).toBe('"x"');
    const many = Array.from({ length: 4000 }, (_, n) => `client-${n}`.padEnd(250, '.'));
    expect(() => toOutgoingMessage(1, { clientId: many }, 64 * 1024)).toThrow(MessageTooLargeError);
  });

  it('refuses more client ids than maxRecipients', () => {
    const ids = (count: number) => Array.from({ length: count }, (_, n) => `c${n}`);
    expect(toOutgoingMessage(1, { clientId: ids(1000) }, 64 * 1024, 1000).to).toHaveLength(1000);
    expect(() => toOutgoingMessage(1, { clientId: ids(1001) }, 64 * 1024, 1000)).toThrow(
      TooManyRecipientsError,
    );
    expect(() => toOutgoingMessage(1, { clientId: ids(1001) }, 64 * 1024, 1000)).toThrow(
      /1001 client ids, over the limit of 1000/,
    );
  });

  it('fingerprints a message with an idempotency key: the same message, the same print', () => {
    const keyed = (data: unknown, options = {}) =>
      toOutgoingMessage(data, { idempotencyKey: 'k-1', ...options }, 100).idempotency;
    expect(keyed(1)).toEqual({ key: 'k-1', fingerprint: expect.any(String) });
    expect(keyed(1)).toEqual(keyed(1));
    expect(keyed(1)).not.toEqual(keyed(2));
    expect(keyed(1)).not.toEqual(keyed(1, { event: 'e' }));
    expect(keyed(1, { clientId: 'a' })).not.toEqual(keyed(1, { topic: 'a' }));
    expect(toOutgoingMessage(1, {}, 100).idempotency).toBeUndefined();
  });

  it.each([
    ['an empty key', ''],
    ['a key of 256 characters', 'k'.repeat(256)],
    ['a key with a space', 'a b'],
    ['a key with a newline', 'a\nb'],
    ['a key with non-ASCII', 'clé'],
    ['a key that is not a string', 7],
  ])('refuses %s as an idempotency key', (_, idempotencyKey) => {
    expect(() => toOutgoingMessage(1, { idempotencyKey } as never, 100)).toThrow(
      /idempotencyKey must be 1 to 255 printable ASCII/,
    );
  });
});
