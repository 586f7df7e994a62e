/**
 * Baseline of the HTTP publish step: a bare Fastify route at `POST /sse/publish` that parses the
 * same JSON body (Fastify's own parser) and answers `202` with an id, and nothing else: no
 * logger, no token, no bus. What a publish over HTTP costs at the least on this framework.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
let id = 0;
app.post('/sse/publish', (_request, reply) => {
  void reply.code(202).send({ id: String(++id) });
});
await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
