/** A client under test, as the test sees it, whatever it runs in. */
export interface InteropClient {
  readonly name: string;
  /** The parsed data of each message its handler got, in order (`connected` too, for some). */
  readonly data: unknown[];
  /** What reached its handler and did not parse. */
  readonly unparsed: string[];
  close(): Promise<void>;
}

/** What every snippet of examples/clients/ exports: opens the stream, returns what closes it. */
export type Listen = (
  url: string,
  token: string,
  onMessage: (ev: { data?: string }) => void,
) => () => void;
