import pg from 'pg';
import type { ModelInfo } from '../../core/types.js';
import { FacedbError } from '../../errors/errors.js';
import { storageUnavailable, type StorageFault } from '../faults.js';
import { toModelInfo, type MetaRow } from '../rows.js';

/*
 * The PostgreSQL store's connection: transactions on pooled connections, the model row, and what the
 * server's errors mean (storage faults, contention, a wrong URL), with URLs shown with the password masked.
 */

/** Several reads that must agree with each other (a page and its total, a count and its rows). */
export const READ_SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';
export const PRUNE_CHANGES = 'DELETE FROM face_changes WHERE seq <= (SELECT MAX(seq) FROM face_changes) - $1';

/** The URL with any password masked, fit for messages and logs. Throws invalid_input when it is no URL. */
export function redactUrl(url: string): string {
  // Like pg, accept credentials before an empty host (a Unix socket given by ?host=), which URL refuses.
  const emptyHost = url.includes('@/');
  let parsed: URL;
  try {
    parsed = new URL(emptyHost ? url.replace('@/', `@${PLACEHOLDER_HOST}/`) : url);
  } catch {
    // Not echoed: a URL we cannot parse is one whose password we cannot find to mask.
    throw new FacedbError('invalid_input', 'the PostgreSQL URL is malformed (not shown, as it may contain a password)');
  }
  if (parsed.password !== '') parsed.password = '***';
  if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
  return emptyHost ? parsed.href.replace(`@${PLACEHOLDER_HOST}/`, '@/') : parsed.href;
}

const PLACEHOLDER_HOST = 'facedb-no-host';

export type Queryable = pg.Pool | pg.PoolClient;

/**
 * Runs `work` on one pooled connection between `begin` and COMMIT, rolling back on any error.
 * A connection that cannot even roll back is broken, and is dropped instead of going back to the pool.
 */
export async function transaction<T>(pool: pg.Pool, begin: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

export async function readModel(db: Queryable): Promise<ModelInfo | null> {
  const { rows } = await db.query<MetaRow>('SELECT model_id, model_version, dimensions, metric, threshold FROM meta');
  const row = rows[0];
  if (row === undefined) return null;
  return toModelInfo(row);
}

export async function count(db: Queryable, sql: string, values: unknown[] = []): Promise<number> {
  return (await onlyRow(db.query<{ n: number }>(sql, values))).n;
}

export async function onlyRow<R extends pg.QueryResultRow>(result: Promise<pg.QueryResult<R>>): Promise<R> {
  const row = (await result).rows[0];
  if (row === undefined) throw new FacedbError('internal', 'expected a row from the gallery database, got none');
  return row;
}

/** SQLSTATEs after which retrying later should succeed: lock and serialization conflicts, too many connections. */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03', '53300']);

/** SQLSTATEs that mean the database's storage or server, not the request, is at fault. */
const STORAGE_SQLSTATES: Readonly<Record<string, StorageFault>> = {
  '53100': 'full', // disk_full
  '25006': 'read_only', // read_only_sql_transaction (default_transaction_read_only, a hot standby)
  '58030': 'io', // io_error
  '58000': 'io', // system_error
  XX001: 'io', // data_corrupted
  XX002: 'io', // index_corrupted
  '57P01': 'unreachable', // admin_shutdown
  '57P02': 'unreachable', // crash_shutdown
  '57P03': 'unreachable', // cannot_connect_now (starting up, shutting down, recovering)
  '57P04': 'gone', // database_dropped
};

/** Socket errors and pg's own messages for a server that went away or cannot be reached. */
const UNREACHABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT', 'EAI_AGAIN']);
const UNREACHABLE_MESSAGE = /Connection terminated|connection error and is not queryable|Connection ended|server closed the connection/i;

/** The storage fault `error` reports, if it is one; null for everything else. */
export function postgresFault(error: unknown): FacedbError | null {
  if (error instanceof FacedbError) return error.code === 'storage_unavailable' ? error : null;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  let fault: StorageFault | undefined;
  if (typeof code === 'string') {
    fault = STORAGE_SQLSTATES[code] ?? (code.startsWith('08') || UNREACHABLE_ERRNOS.has(code) ? 'unreachable' : undefined);
  }
  if (fault === undefined && UNREACHABLE_MESSAGE.test(message)) fault = 'unreachable';
  if (fault === undefined) return null;
  const what: Record<StorageFault, string> = {
    full: 'the gallery database server is out of disk space',
    read_only: 'the gallery database is read-only',
    io: 'the gallery database server reported an I/O error or damaged data',
    gone: 'the gallery database is gone',
    unreachable: 'the gallery database server cannot be reached',
  };
  return storageUnavailable(fault, `${what[fault]}: ${message === '' ? String(code) : message}`, error);
}

/** Awaits driver work, turning contention (server busy, pool exhausted) into `overloaded` and storage faults into `storage_unavailable`. */
export async function run<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof FacedbError) throw error;
    const fault = postgresFault(error);
    if (fault !== null) throw fault;
    const sqlState = (error as { code?: unknown }).code;
    const poolTimedOut = error instanceof Error && /timeout exceeded when trying to connect/.test(error.message);
    if ((typeof sqlState === 'string' && TRANSIENT_SQLSTATES.has(sqlState)) || poolTimedOut) {
      throw new FacedbError('overloaded', `the gallery database is busy: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  }
}

/** SQLSTATE classes that mean the URL's credentials, database or rights are wrong (28: authorization, 3D: catalog, 42501: privilege). */
function isConfigurationError(sqlState: string): boolean {
  return sqlState.startsWith('28') || sqlState === '3D000' || sqlState === '42501';
}

/**
 * Explains a failure to open: a wrong URL, credentials or database is invalid_input; a server that
 * cannot be reached, or cannot store the schema, is storage_unavailable. Messages carry the redacted URL only.
 */
export function openFailure(error: unknown, where: string): FacedbError {
  if (error instanceof FacedbError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  const misconfigured =
    (typeof code === 'string' && (isConfigurationError(code) || code === 'ENOTFOUND')) || /password|SASL/i.test(reason);
  const fault = misconfigured ? null : postgresFault(error);
  if (fault !== null) {
    return new FacedbError('storage_unavailable', `cannot open gallery database ${where}: ${fault.message}`, {
      cause: error,
      details: { ...fault.details, url: where },
    });
  }
  return new FacedbError(
    misconfigured ? 'invalid_input' : 'internal',
    `cannot open gallery database ${where}: ${reason === '' ? 'connection failed' : reason}`,
    { cause: error, details: { url: where } },
  );
}
