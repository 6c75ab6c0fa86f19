import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { lfwPhoto, testImage } from '../../test/fixtures.js';
import { startPgliteServer, type PgliteServer } from '../../test/pglite-server.js';
import { openFacedb } from '../facedb.js';
import type { FaceService } from '../services/face-service.js';

/*
 * FACEDB_INDEX=pgvector end to end: real faces enrolled into PostgreSQL (PGlite with pgvector, see
 * test/pglite-server.ts) and identified by the database's HNSW search instead of an in-memory index.
 */
describe('FaceService searching in PostgreSQL with pgvector', () => {
  let server: PgliteServer;
  let service: FaceService;

  before(async () => {
    server = await startPgliteServer();
    service = await openFacedb({ db: server.url, workers: 1, index: 'pgvector' });
  });
  after(async () => {
    await service.close();
    await server.stop();
  });

  it('identifies enrolled people and forgets removed ones', async () => {
    const items = [
      ...[1, 2].map((n) => ({ person: 'Bono', path: lfwPhoto('Bono', n) })),
      ...[1, 2, 3].map((n) => ({ person: 'Boris Becker', path: lfwPhoto('Boris_Becker', n) })),
    ];
    const summary = await service.enroll(items);
    assert.equal(summary.counts.enrolled + summary.counts.enrolled_one_of_several, 5);
    const bono = await service.identify({ path: testImage('Bono_0001.jpg') });
    assert.equal(bono.faces[0]?.match?.person, 'Bono');
    assert.equal(bono.faces[0]?.match?.distance, 0);
    assert.deepEqual(bono.faces[0]?.candidates.map((c) => c.person), ['Bono', 'Boris Becker']);
    const boris = await service.identify({ path: lfwPhoto('Boris_Becker', 4) });
    assert.equal(boris.faces[0]?.candidates[0]?.person, 'Boris Becker');

    await service.removePerson('Bono');
    const gone = await service.identify({ path: testImage('Bono_0001.jpg') });
    assert.deepEqual(gone.faces[0]?.candidates.map((c) => c.person), ['Boris Becker']);
  });

  it("answers with another process's rename at once (the database is the index, so no change log is replayed)", async () => {
    const other = await openFacedb({ db: server.url, workers: 1, index: 'pgvector' });
    try {
      const probe = { path: lfwPhoto('Boris_Becker', 4) };
      assert.equal((await service.identify(probe)).faces[0]?.candidates[0]?.person, 'Boris Becker');
      await other.curation.renamePerson('Boris Becker', 'Boris F. Becker');
      assert.equal((await service.identify(probe)).faces[0]?.candidates[0]?.person, 'Boris F. Becker');
      await other.curation.renamePerson('Boris F. Becker', 'Boris Becker');
    } finally {
      await other.close();
    }
  });

  it('refuses the setting for a SQLite gallery at start-up', async () => {
    await assert.rejects(openFacedb({ db: 'x.sqlite', index: 'pgvector' }), /pgvector needs a PostgreSQL gallery/);
  });
});
