import { get } from 'node:http';

/** An instance's `sse_bus_redis_read_bytes_total`, from its `GET /metrics`. */
export function readBytesTotal(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const match = /^sse_bus_redis_read_bytes_total(?:\{[^}]*\})? (\S+)$/m.exec(text);
        if (res.statusCode !== 200 || !match) {
          reject(new Error(`GET /metrics on ${port}: ${res.statusCode}, no read bytes counter`));
        } else resolve(Number(match[1]));
      });
    }).on('error', reject);
  });
}
