/** The base of every error the bus throws, so callers can tell them from others. */
export class SseBusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
