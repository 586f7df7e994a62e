import { EventEmitter, once } from 'node:events';
import { DeadlineExceeded } from '../../src/redis/deadline.js';
import type { RedisClient } from '../../src/redis/redis-connection.js';
import { RedisWatchdog } from '../../src/redis/redis-watchdog.js';

/** A connection that counts its disconnects, and says `dropped` at each. */
function connection() {
  const client = Object.assign(new EventEmitter(), { disconnects: 0 }) as EventEmitter & {
    disconnects: number;
    disconnect(reconnect?: boolean): void;
  };
  client.disconnect = () => {
    client.disconnects++;
    client.emit('dropped');
  };
  return client;
}

/** A command answered when told. */
function pending<T>() {
  let answer!: (value: T) => void;
  let fail!: (err: Error) => void;
  const command = new Promise<T>((resolve, reject) => {
    answer = resolve;
    fail = reject;
  });
  return { command, answer, fail };
}

const settled = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    () => 'rejected',
  );

describe('RedisWatchdog', () => {
  it('settles like the command', async () => {
    const client = connection();
    const watchdog = new RedisWatchdog(client as unknown as RedisClient, 1000);
    const ok = pending<string>();
    const bad = pending<string>();
    const answered = watchdog.ask(ok.command);
    const refused = watchdog.ask(bad.command);
    ok.answer('OK');
    bad.fail(new Error('WRONGTYPE'));
    await expect(answered).resolves.toBe('OK');
    await expect(refused).rejects.toThrow('WRONGTYPE');
    expect(client.disconnects).toBe(0);
  });

  it("rejects at the caller's deadline, and drops the connection only once the command is stale", async () => {
    const client = connection();
    const watchdog = new RedisWatchdog(client as unknown as RedisClient, 60);
    // Asked first: had it gone stale, it would have dropped the connection before the other.
    const answeredLate = pending<string>();
    const askedFirst = watchdog.ask(answeredLate.command, 10);
    const asked = watchdog.ask(pending<string>().command, 10);
    await expect(askedFirst).rejects.toBeInstanceOf(DeadlineExceeded);
    await expect(asked).rejects.toBeInstanceOf(DeadlineExceeded);
    expect(client.disconnects).toBe(0);
    answeredLate.answer('late');
    await once(client, 'dropped');
    expect(client.disconnects).toBe(1);
  });

  it('drops a stale connection before a longer deadline, and the command fails as lost', async () => {
    const client = connection();
    const watchdog = new RedisWatchdog(client as unknown as RedisClient, 10);
    const asked = watchdog.ask(pending<string>().command, 60_000);
    await once(client, 'dropped');
    client.emit('close');
    await expect(asked).rejects.toThrow('Connection to Redis lost');
  });

  it('fails what is in flight when the connection closes', async () => {
    const client = connection();
    const watchdog = new RedisWatchdog(client as unknown as RedisClient, 1000);
    const asked = watchdog.ask(pending<string>().command);
    client.emit('close');
    await expect(asked).rejects.toThrow('Connection to Redis lost');
    expect(await settled(watchdog.ask(Promise.resolve('after')))).toBe('resolved');
  });
});
