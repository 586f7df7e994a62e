import { ConfigError } from '../../src/index.js';
import { loadEnvConfig } from '../../src/service/env.config.js';

describe('loadEnvConfig', () => {
  it('has defaults for everything', () => {
    const config = loadEnvConfig({}, false);
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      logLevel: 'info',
      logFormat: 'json',
      metrics: { token: undefined },
      corsOrigins: [],
      shutdownMs: 10000,
    });
    expect(config.options).toMatchObject({
      redisUrl: undefined,
      heartbeatMs: 15000,
      historyMaxLength: 10000,
      maxBufferedBytes: 1024 * 1024,
      maxMessageBytes: 64 * 1024,
      jwtCookie: 'sse_token',
      jwtTopicsClaim: 'topics',
      jwtRequireExp: true,
      maxStreamsPerClient: 100,
      readerIdleMs: 5000,
    });
  });

  it('reads every variable', () => {
    const config = loadEnvConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      REDIS_URL: 'redis://r:6379/2',
      SSE_HEARTBEAT_MS: '500',
      SSE_JWT_SECRET: 's',
      SSE_PUBLISH_TOKEN: 'p',
      SSE_HISTORY_MAXLEN: '50',
      SSE_HISTORY_MAX_BYTES: '1048576',
      SSE_CORS_ORIGINS: 'https://a.example, http://localhost:5173',
      SSE_REDIS_PREFIX: 'tenant-1',
      SSE_JWT_TOPICS_CLAIM: 'https://example.com/topics',
      SSE_PRESENCE_TTL_MS: '5000',
      SSE_HISTORY_MAX_AGE_MS: '3600000',
      SSE_JWT_REQUIRE_EXP: 'false',
      SSE_MAX_STREAMS_PER_CLIENT: '0',
      SSE_MAX_TOPICS_PER_CLIENT: '50',
      SSE_READER_IDLE_MS: '0',
    });
    expect(config.port).toBe(8080);
    expect(config.corsOrigins).toEqual(['https://a.example', 'http://localhost:5173']);
    expect(config.options).toMatchObject({
      redisUrl: 'redis://r:6379/2',
      heartbeatMs: 500,
      jwtSecret: 's',
      publishToken: 'p',
      historyMaxLength: 50,
      historyMaxBytes: 1048576,
      redisKeyPrefix: 'tenant-1',
      jwtTopicsClaim: 'https://example.com/topics',
      presenceTtlMs: 5000,
      historyMaxAgeMs: 3600000,
      jwtRequireExp: false,
      maxStreamsPerClient: 0,
      maxTopicsPerClient: 50,
      readerIdleMs: 0,
    });
  });

  it('keeps presence for 30 s, the history regardless of age, and 1,000 topics a client by default', () => {
    const { options } = loadEnvConfig({});
    expect(options.presenceTtlMs).toBe(30000);
    expect(options.historyMaxAgeMs).toBeUndefined();
    expect(options.maxTopicsPerClient).toBe(1000);
  });

  it('logs JSON unless stdout is a terminal, and as LOG_FORMAT says', () => {
    expect(loadEnvConfig({}, true).logFormat).toBe('pretty');
    expect(loadEnvConfig({ LOG_FORMAT: 'json' }, true).logFormat).toBe('json');
    expect(loadEnvConfig({ LOG_FORMAT: 'pretty' }, false).logFormat).toBe('pretty');
  });

  it('serves metrics unless SSE_METRICS=false, behind SSE_METRICS_TOKEN if set', () => {
    expect(loadEnvConfig({ SSE_METRICS: 'false', SSE_METRICS_TOKEN: 'm' }).metrics).toBe(false);
    expect(loadEnvConfig({ SSE_METRICS: 'true', SSE_METRICS_TOKEN: 'm' }).metrics).toEqual({
      token: 'm',
    });
  });

  it('serves the demo page unless SSE_DEMO=false', () => {
    expect(loadEnvConfig({}).demo).toBe(true);
    expect(loadEnvConfig({ SSE_DEMO: 'true' }).demo).toBe(true);
    expect(loadEnvConfig({ SSE_DEMO: 'false' }).demo).toBe(false);
  });

  it('takes a Redis Cluster as its nodes, with shards and replicas to wait for', () => {
    const { options } = loadEnvConfig({
      REDIS_URL: 'redis-cluster://10.0.0.1:7000,10.0.0.2:7001',
      SSE_REDIS_SHARDS: '4',
      SSE_REDIS_WAIT_REPLICAS: '1',
    });
    expect(options).toMatchObject({
      redisUrl: 'redis-cluster://10.0.0.1:7000,10.0.0.2:7001',
      redisShards: 4,
      redisWaitReplicas: 1,
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadEnvConfig({ REDIS_URL: '', PORT: '' }).options.redisUrl).toBeUndefined();
  });

  it.each([
    ['SSE_HISTORY_MAXLEN', '0'],
    ['SSE_HISTORY_MAX_BYTES', '100'],
    ['SSE_PUBLISH_TIMEOUT_MS', '1e3'],
    ['SSE_REDIS_PREFIX', 'has space'],
    ['SSE_JWT_COOKIE', 'a;b'],
    ['SSE_JWT_TOPICS_CLAIM', 'two words'],
    ['SSE_CORS_ORIGINS', 'https://a.example/path'],
    ['SSE_PRESENCE_TTL_MS', '10'],
    ['SSE_PRESENCE_TTL_MS', '30s'],
    ['SSE_HISTORY_MAX_AGE_MS', '5'],
    ['SSE_HISTORY_MAX_AGE_MS', '-1000'],
    ['LOG_LEVEL', 'trace'],
    ['LOG_FORMAT', 'text'],
    ['SSE_METRICS', 'on'],
    ['SSE_DEMO', 'off'],
    ['SSE_REDIS_SHARDS', '0'],
    ['SSE_REDIS_SHARDS', '9'],
    ['SSE_REDIS_WAIT_REPLICAS', '-1'],
    ['REDIS_URL', 'redis-cluster://'],
    ['REDIS_URL', 'redis-cluster://a:1,b'],
    ['REDIS_URL', 'http://a:1'],
    ['SSE_JWT_REQUIRE_EXP', 'no'],
    ['SSE_MAX_STREAMS_PER_CLIENT', '-1'],
    ['SSE_MAX_TOPICS_PER_CLIENT', '0'],
    ['SSE_READER_IDLE_MS', '-1'],
    ['SSE_READER_IDLE_MS', '5s'],
  ])('names %s when it is %p', (name, value) => {
    expect(() => loadEnvConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadEnvConfig({ [name]: value })).toThrow(new RegExp(`^${name}: expected`));
  });
});
