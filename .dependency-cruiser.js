/**
 * The layers of src/, bottom to top: a folder (or, for `.`, the files at the top of src/: the
 * public facade) imports only from its own layer and those below it. `npm run lint` checks it.
 * The browser client (src/client/) is none of them: it stands alone.
 */
const LAYERS = [
  'errors',
  'config',
  'schedule',
  'redis',
  'bus',
  'http',
  'auth',
  'sse',
  'presence',
  'metrics',
  '.',
  'health',
  'service',
];

/** The files of a layer, as a path pattern. */
const files = (layer) => (layer === '.' ? '^src/[^/]+$' : `^src/${layer}/`);

const upward = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `layer-${layer === '.' ? 'facade' : layer}`,
  comment: `${layer === '.' ? 'The facade (src/*.ts)' : `src/${layer}/`} imports only from the layers below it: ${LAYERS.slice(0, index).join(', ') || 'none'}.`,
  severity: 'error',
  from: { path: files(layer) },
  to: { path: LAYERS.slice(index + 1).map(files) },
}));

export default {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      comment: 'No file imports itself through others.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'transports-behind-their-interface',
      comment: 'The bus knows a transport only as a BusTransport; the module picks which one.',
      severity: 'error',
      from: { path: '^src/bus/[^/]+$' },
      to: { path: '^src/bus/transports/' },
    },
    {
      name: 'streams-know-no-redis',
      comment: 'The SSE side sees the bus, never Redis.',
      severity: 'error',
      from: { path: '^src/sse/' },
      to: { path: ['^src/redis/', '^src/bus/transports/', 'node_modules/ioredis/'] },
    },
    {
      name: 'client-stands-alone',
      comment:
        'The browser client (sse-bus/client) ships as one bundle with no dependencies: it imports only its own files.',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { pathNot: '^src/client/' },
    },
    {
      name: 'nothing-imports-the-client',
      comment:
        'The browser client runs in the browser: the rest of src/ imports none of it (the demo serves its built bundle as a file).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/client/' },
      to: { path: '^src/client/' },
    },
    {
      name: 'library-knows-no-service',
      comment: "The library knows nothing of the service's environment or logger.",
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/service/' },
      to: { path: 'node_modules/(pino|pino-http|pino-pretty|nestjs-pino)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
