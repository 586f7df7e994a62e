/** Query parameters whose values never reach a log line or an answer, by decoded, lower-case name. */
const SECRET_PARAMS = new Set(['token', 'access_token']);

/**
 * A parameter wherever a router or a raw client may start one: after `?` (repeated too), `&`,
 * `;` (a router's other delimiter) and `#` (a fragment the client did not strip). The value runs
 * to the next delimiter, so that no part of a token is left.
 */
const PARAM = /([?&;#])([^=?&;#\s]*)=([^&;#\s"']*)/g;

/**
 * `text` (a URL, or a message quoting one) with the values of its secret query parameters
 * replaced by `[redacted]`. Names are compared decoded, as the query parser reads them:
 * `?%74oken=` is a token too.
 */
export function redactSecrets(text: string): string {
  if (!text.includes('=')) return text;
  return text.replace(PARAM, (param: string, start: string, name: string) =>
    SECRET_PARAMS.has(decodedName(name)) ? `${start}${name}=[redacted]` : param,
  );
}

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replaceAll('+', ' ')).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}
