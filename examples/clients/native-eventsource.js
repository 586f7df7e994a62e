export function listen(url, token, onMessage) {
  // EventSource sends no header of its own: the token travels in the cookie (better still, set
  // by your login response, HttpOnly, on the stream's origin).
  document.cookie = `sse_token=${token}; path=/; SameSite=Strict`;
  const source = new EventSource(url, { withCredentials: true });
  source.onmessage = onMessage;
  return () => source.close();
}
