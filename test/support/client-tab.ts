import type { BrowserContext, Page, Request } from 'playwright-core';
import { waitFor } from './wait-for.js';

/** Where a tab's page is: a path of the service's origin that the browser answers itself. */
const HARNESS_PATH = '/client-test-tab';
/** The contexts that answer HARNESS_PATH already. */
const served = new WeakSet<BrowserContext>();

/**
 * A page that imports the browser client the service serves (`GET /sse-bus-client.js`), as an app
 * would, and records what its stream hands the app. `start` is what the test calls in the page.
 */
const HARNESS = `<!doctype html>
<title>sse-bus client test tab</title>
<script type="module">
  import { connect } from '/sse-bus-client.js';
  window.start = (url, { tokenFunction, ...options }) => {
    const seen = (window.seen = { messages: [], connected: [], states: [], errors: [], tokenCalls: 0 });
    const token = tokenFunction
      ? async () => (seen.tokenCalls++, tokenFunction)
      : options.token;
    const stream = (window.stream = connect(url, { ...options, token }));
    seen.states.push(stream.state);
    stream.on('state', (state) => seen.states.push(state));
    stream.on('error', ({ message, status }) => seen.errors.push({ message, status }));
    stream.on('message', (data, meta) => seen.messages.push({ data, ...meta }));
    stream.on('connected', (data, meta) => seen.connected.push({ data, ...meta }));
  };
</script>`;

/** What a tab's stream handed the app, in order. */
export interface Seen {
  messages: { data: unknown; id: string | undefined; event: string }[];
  connected: { data: { clientId: string }; id: string | undefined }[];
  states: string[];
  errors: { message: string; status?: number }[];
  /** How often the token function was called (`tokenFunction`). */
  tokenCalls: number;
}

export interface TabOptions {
  token?: string;
  /** The token, handed over by an async function instead of as a string. */
  tokenFunction?: string;
  shareTabs?: boolean;
}

/** A tab of `context` with the client on `url` (a path of the service), and the requests it made. */
export class ClientTab {
  /** The tab's requests for the stream, whichever role the tab had. */
  readonly streamRequests: Request[] = [];

  private constructor(readonly page: Page) {
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/sse/msg')) this.streamRequests.push(request);
    });
  }

  static async open(
    context: BrowserContext,
    serviceUrl: string,
    url: string,
    options: TabOptions = {},
  ): Promise<ClientTab> {
    if (!served.has(context)) {
      served.add(context);
      await context.route(`**${HARNESS_PATH}`, (route) =>
        route.fulfill({ contentType: 'text/html', body: HARNESS }),
      );
    }
    const tab = new ClientTab(await context.newPage());
    await tab.page.goto(`${serviceUrl}${HARNESS_PATH}`);
    await tab.page.evaluate(
      ([url, options]) => (globalThis as unknown as Harness).start(url, options),
      [url, options] as const,
    );
    return tab;
  }

  seen(): Promise<Seen> {
    return this.page.evaluate(() => (globalThis as unknown as Harness).seen);
  }

  /** The data of the messages seen so far. */
  async data(): Promise<unknown[]> {
    return (await this.seen()).messages.map((message) => message.data);
  }

  /** Waits until the stream has handed the app `count` messages at least. */
  async waitForMessages(count: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      async () => (await this.seen()).messages.length >= count,
      `${count} messages`,
      timeoutMs,
    );
  }

  /** Calls the stream's `close()`. */
  close(): Promise<void> {
    return this.page.evaluate(() => (globalThis as unknown as Harness).stream.close());
  }

  /** Waits until the stream's last state is `state`. */
  async waitForState(state: string): Promise<void> {
    await waitFor(async () => (await this.seen()).states.at(-1) === state, `state ${state}`);
  }
}

interface Harness {
  start(url: string, options: TabOptions): void;
  seen: Seen;
  stream: { close(): void };
}
