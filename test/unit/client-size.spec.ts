import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { assertBuildIsFresh } from '../faults/support/built.js';

const BUNDLE = new URL('../../dist/client/sse-bus-client.js', import.meta.url);

describe('the browser client, as the build bundles it', () => {
  it('is at most 4 KB minified and gzipped, and imports nothing', () => {
    assertBuildIsFresh();
    const bundle = readFileSync(BUNDLE);
    expect(gzipSync(bundle, { level: 9 }).length).toBeLessThanOrEqual(4096);
    expect(bundle.toString()).not.toMatch(/\bimport\s*[\w{*("']|\brequire\(/);
    expect(bundle.toString()).toMatch(/export\s*\{\s*\w+ as connect\s*\}/);
  });
});
