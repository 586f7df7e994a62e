/** A pipeline with its first command in: `WAIT` goes after it, on the same connection. */
export interface Waitable {
  wait(replicas: number, ms: number): { exec(): Promise<[Error | null, unknown][] | null> };
}

/**
 * The reply of the command `started` holds, once `replicas` replicas have what it wrote (`WAIT`):
 * a failover then keeps it. Throws the command's error; or, when fewer replicas have it in time, a
 * plain `Error`, which callers retry as a lost reply, so the command must give the same reply when
 * run again.
 */
export async function withReplicas<T>(
  started: Waitable,
  replicas: number,
  commandTimeoutMs: number,
): Promise<T> {
  // Half the watchdog's deadline: a WAIT that waits its whole time (no replica yet, after a
  // failover) is an answer, not a dead connection to be dropped with every command on it.
  const replies = await started.wait(replicas, Math.floor(commandTimeoutMs / 2)).exec();
  const [[failed, reply], [waitFailed, acknowledged]] = replies!;
  if (failed) throw failed;
  if (waitFailed) throw waitFailed;
  if ((acknowledged as number) < replicas) {
    throw new Error(`${String(acknowledged)} of ${replicas} replicas have it`);
  }
  return reply as T;
}
