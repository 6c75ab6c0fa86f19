import type { RedisOptions } from 'bullmq';
import { FacedbError } from '../errors/errors.js';

/** A validated `redis://` / `rediss://` address: what to connect to and how to name it without its password. */
export interface QueueAddress {
  /** The URL with any password replaced by `***`, for messages and logs. */
  display: string;
  /** BullMQ's connection settings (ioredis options). */
  connection: RedisOptions;
}

/** How long connecting may take before a command gives up with a clear error rather than hanging. */
export const CONNECT_TIMEOUT_MS = 5_000;

/** BullMQ needs Redis 5 or newer (its scripts use streams); Debian 12 ships 7.0. */
const MIN_REDIS_MAJOR = 5;

/**
 * Parses a queue URL: `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. Anything else is
 * refused with `invalid_input`, without repeating a password.
 */
export function parseQueueUrl(text: string): QueueAddress {
  const refuse = (why: string): never => {
    throw new FacedbError('invalid_input', `--queue must be a redis://host:port URL: ${why}`);
  };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse('this one is malformed');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return refuse(`${url.protocol}// is not redis:// or rediss://`);
  if (url.hostname === '') return refuse('the host is missing');
  const port = url.port === '' ? 6379 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return refuse('the port must be between 1 and 65535');
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!/^\d*$/.test(dbText) || !Number.isSafeInteger(db)) return refuse(`the path must be a database number, not /${dbText}`);
  if (url.search !== '' || url.hash !== '') return refuse('query strings and fragments are not supported');

  const display = new URL(url.href);
  if (display.password !== '') display.password = '***';
  // IPv6 hosts come bracketed from URL; ioredis wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const connection: RedisOptions = {
    host,
    port,
    db,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // BullMQ's blocking worker connections must wait for Redis rather than fail a command after N retries.
    maxRetriesPerRequest: null,
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
    ...(url.protocol === 'rediss:' ? { tls: { servername: host } } : {}),
  };
  return { display: display.href.replace(/\/$/, ''), connection };
}

/**
 * Connects once without retrying and checks the server's version, so an unreachable, refusing or too-old Redis
 * is reported at once (`internal`, exit 1, like an unreachable PostgreSQL) instead of BullMQ retrying forever.
 */
export async function checkQueueServer(address: QueueAddress, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  // Loaded here, not at the top: every CLI command imports this file for parseQueueUrl, few reach a queue.
  const { Redis } = await import('ioredis');
  const probe = new Redis({ ...address.connection, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // connect() itself only says "Connection is closed"; the reason comes as an 'error' event first.
  let reason: string | undefined;
  probe.on('error', (error: Error) => {
    reason ??= error.message;
  });
  let timer: NodeJS.Timeout | undefined;
  // Something that accepts connections but never answers like Redis would hang a plain connect(): give up in time.
  const silence = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    await Promise.race([probe.connect(), silence]);
    const info = await Promise.race([probe.info('server'), silence]);
    const version = /redis_version:(\d+)\.(\d+)/.exec(info);
    if (version && Number(version[1]) < MIN_REDIS_MAJOR) {
      throw new FacedbError('invalid_input', `the queue at ${address.display} runs Redis ${version[1]}.${version[2]}; facedb needs ${MIN_REDIS_MAJOR} or newer`);
    }
  } catch (error) {
    if (error instanceof FacedbError) throw error;
    const why = reason ?? (error instanceof Error ? error.message : String(error));
    throw new FacedbError('unreachable', `cannot reach the queue at ${address.display}: ${why}`, { cause: error });
  } finally {
    clearTimeout(timer);
    probe.disconnect();
  }
}
