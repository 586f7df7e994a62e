/** The samples of a Prometheus text exposition, by name and labels: `name{label="value"}`. */
export type Samples = ReadonlyMap<string, number>;

export function parseSamples(text: string): Samples {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** `GET /metrics` of `baseUrl`, parsed; fails unless it answers 200. */
export async function scrape(baseUrl: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${baseUrl}/metrics`, { headers });
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  return parseSamples(await response.text());
}

/** How much each sample in `names` grew from `before` to `after` (absent counts as 0). */
export function growth(before: Samples, after: Samples, names: readonly string[]) {
  return Object.fromEntries(
    names.map((name) => [name, (after.get(name) ?? 0) - (before.get(name) ?? 0)]),
  );
}
