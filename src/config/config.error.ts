/** A configuration value is missing or wrong; the message names it and says what it expects. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
