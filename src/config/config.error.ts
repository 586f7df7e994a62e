/** A configuration value is missing or wrong: `option` names it, `problem` says what it expects. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly option: string,
    readonly problem: string,
  ) {
    super(`${option}: ${problem}`);
  }
}
