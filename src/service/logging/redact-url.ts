/** Query parameters whose values never reach a log line, by their decoded, lower-case name. */
const SECRET_PARAMS = new Set(['token', 'access_token']);

/**
 * `url` with the values of its secret query parameters replaced by `[redacted]`. Names are
 * compared decoded, as the query parser reads them: `?%74oken=` is a token too.
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const params = url
    .slice(start + 1)
    .split('&')
    .map((param) => {
      const name = param.split('=', 1)[0];
      return SECRET_PARAMS.has(decodedName(name)) ? `${name}=[redacted]` : param;
    });
  return `${url.slice(0, start)}?${params.join('&')}`;
}

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replaceAll('+', ' ')).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}
