/**
 * PostgreSQL with pgvector for tests and benchmarks, where the machine's PostgreSQL has no pgvector: PGlite (Postgres
 * compiled to WebAssembly) with its bundled `vector` extension, served on a loopback port by pglite-socket so the
 * PostgreSQL store talks to it through the `pg` driver and its pool exactly as to a real server. PGlite is one
 * session: pglite-socket runs one connection's transaction at a time, queueing the others' queries meanwhile.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface PgliteServer {
  /** postgres:// URL of the server (database `postgres`, user `postgres`, no password). */
  url: string;
  db: PGlite;
  stop(): Promise<void>;
}

export async function startPgliteServer(): Promise<PgliteServer> {
  const db = await PGlite.create({ extensions: { vector } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 64 });
  await server.start();
  const port = Number(server.getServerConn().split(':').pop());
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    db,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
