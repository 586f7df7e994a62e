import 'reflect-metadata';
import { ConfigError } from '../config/config.error.js';
import { bootstrap } from './bootstrap.js';
import { loadEnvConfig } from './env.config.js';

try {
  await bootstrap(loadEnvConfig());
} catch (err) {
  // One line, naming what is wrong: a bad variable, or what failed at start-up.
  const { message } = err as Error;
  console.error(err instanceof ConfigError ? message : `sse-bus failed to start: ${message}`);
  process.exit(1);
}
