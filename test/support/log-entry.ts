/**
 * The data of a log entry as Redis gives it (`XRANGE`): its one field `m` holds `<epoch>
 * <spread> <to> <topics> <event> <data>`, separated by \x1f.
 */
export function entryData(fields: readonly string[]): string {
  return entryFields(fields).d;
}

/** A log entry's fields by name (see `entryData`). */
export function entryFields(
  fields: readonly string[],
): Record<'e' | 'sp' | 'to' | 'tp' | 'ev' | 'd', string> {
  if (fields.length !== 2 || fields[0] !== 'm') {
    throw new Error(`Not a log entry: ${fields.join(' ')}`);
  }
  const [e, sp, to, tp, ev, d] = fields[1].split('\x1f');
  return { e, sp, to, tp, ev, d };
}
