import { InvalidMessageError, MessageTooLargeError } from '../../src/index.js';
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
});
