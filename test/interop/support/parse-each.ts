/**
 * The handler an app gives its client: `JSON.parse(ev.data)` on every message. It also reports
 * what would not parse, then throws as the app's handler would, so the client reacts as it would
 * in the app (fetch-event-source, for one, takes a throw for a broken stream).
 */
export function parseEach(
  onData: (data: unknown) => void,
  onUnparsed: (text: string) => void,
): (ev: { data?: string }) => void {
  return (ev) => {
    let data: unknown;
    try {
      data = JSON.parse(ev.data as string);
    } catch (err) {
      onUnparsed(String(ev.data));
      throw err;
    }
    onData(data);
  };
}
