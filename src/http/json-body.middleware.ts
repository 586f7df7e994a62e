import type { IncomingHttpHeaders } from 'node:http';
import { Injectable, type NestMiddleware, UnsupportedMediaTypeException } from '@nestjs/common';

// JSON text is UTF-8 (RFC 8259); a charset parameter may say so, and nothing else.
const JSON_UTF8 = /^application\/json\s*(;\s*charset\s*=\s*("?)utf-8\2\s*)?$/i;

/**
 * Lets through only what a JSON route documents, before the body is read: `application/json` in
 * UTF-8, not encoded. 415 otherwise: the framework would parse a form, decode another charset or
 * take a gzip-labelled body as plain, and each is a way in that nobody reviewed.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  use(request: { headers: IncomingHttpHeaders }, _response: unknown, next: () => void): void {
    const type = request.headers['content-type'];
    if (type === undefined || !JSON_UTF8.test(type)) {
      throw new UnsupportedMediaTypeException(
        'The body must be Content-Type: application/json (UTF-8)',
      );
    }
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      throw new UnsupportedMediaTypeException(
        `Content-Encoding ${JSON.stringify(encoding)} is not accepted`,
      );
    }
    next();
  }
}
