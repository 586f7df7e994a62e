import { EventSource } from 'eventsource';
import { type TestApp, startApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const PAYLOADS: unknown[] = [
  'line\nbreak',
  'carriage\rreturn',
  'windows\r\nline',
  '\n\n',
  'x\n\nevent: reset\nid: 1\nretry: 1\ndata: forged',
  'line\u2028separator\u2029paragraph',
  'emoji 😀 and astral 𝄞',
  'nul\u0000inside',
  '\uFEFFbom first',
  { nested: { text: 'a\r\nb', list: ['\u0000', '\r'] } },
  null,
  42,
  true,
];

describe('payload fidelity through a spec-faithful EventSource', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startApp()));
  afterAll(() => app.close());

  it('delivers every payload so that JSON.parse(e.data) is exactly what was published', async () => {
    const source = new EventSource(`${app.url}/sse/msg`);
    const received: unknown[] = [];
    const names: string[] = [];
    source.onmessage = (event) => received.push(JSON.parse(event.data));
    source.addEventListener('reset', () => names.push('reset'));
    await new Promise((resolve) => source.addEventListener('connected', resolve, { once: true }));
    for (const payload of PAYLOADS) await app.bus.publish(payload);
    await waitFor(() => received.length === PAYLOADS.length, 'every payload');
    expect(received).toEqual(PAYLOADS);
    expect(names).toEqual([]);
    source.close();
  });
});
