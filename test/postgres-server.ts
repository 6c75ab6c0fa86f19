import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/*
 * A throwaway PostgreSQL cluster for tests and benchmarks that need a real server (the store's own tests, the
 * queue's, bench:queue).
 */

const exec = promisify(execFile);

export interface TestPostgres {
  url: string;
  /** Stops the server, keeping its files (a server that went down). */
  stopServer(): Promise<void>;
  /** Stops the server and deletes its files. */
  stop(): Promise<void>;
}

/** The bin folder of the newest PostgreSQL installed the Debian way, if any. */
export function findPostgresBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  return readdirSync(root)
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => join(root, version, 'bin'))
    .find((bin) => existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl')));
}

/**
 * Creates a cluster in a temp folder and starts it listening on a Unix socket in that folder only,
 * so it cannot clash with any other server. Durability is switched off: it is thrown away.
 */
export async function startPostgres(bin = findPostgresBinaries()): Promise<TestPostgres> {
  if (bin === undefined) throw new Error('PostgreSQL is not installed (apt-get install -y postgresql)');
  const dir = await mkdtemp(join(tmpdir(), 'facedb-pg-'));
  const data = join(dir, 'data');
  // initdb refuses to run as root, so root runs the server as the postgres system user.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await exec('chown', ['postgres', dir]);
  const run = (tool: string, args: string[]) =>
    asRoot ? exec('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : exec(join(bin, tool), args);
  await run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const settings = `-c listen_addresses='' -k '${dir}' -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  await run('pg_ctl', ['start', '-w', '-D', data, '-l', join(dir, 'server.log'), '-o', settings]);
  let running = true;
  const stopServer = async (): Promise<void> => {
    if (!running) return;
    running = false;
    await run('pg_ctl', ['stop', '-D', data, '-m', 'immediate']);
  };
  return {
    url: `postgres://postgres@localhost/postgres?host=${encodeURIComponent(dir)}`,
    stopServer,
    stop: async () => {
      await stopServer();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
