import { normalizePersonName } from '../../core/names.js';
import { FacedbError } from '../../errors/errors.js';
import * as curationWire from '../../server/curation-wire.js';
import * as wire from '../../server/wire.js';
import { call, get, patch, remote, type RemoteFlags } from '../remote.js';
import { curationCommands, type Curator } from './curation.js';

/** The server's page size limit for people. */
const MAX_PAGE = 1000;

/** A person on the server by id or by name (as the store compares names: after the name rules' normalisation). */
export async function findPerson(flags: RemoteFlags, key: string | number): Promise<{ id: number; name: string }> {
  if (typeof key === 'number' || /^#\d+$/.test(key)) {
    const found = await get(flags, `/v1/people/${typeof key === 'number' ? key : key.slice(1)}`, {}, wire.personDetail);
    return { id: found.id, name: found.name };
  }
  const name = normalizePersonName(key);
  for (let offset = 0; ; offset += MAX_PAGE) {
    const page = await get(flags, '/v1/people', { limit: MAX_PAGE, offset }, wire.peoplePage);
    const found = page.items.find((p) => p.name === name);
    if (found) return found;
    if (offset + MAX_PAGE >= page.total) throw new FacedbError('not_found', `no person named ${JSON.stringify(name)}`);
  }
}

/** The curation commands run on a server (`facedb client faces`, `move`, …): same options and reports as locally. */
export function clientCurationCommands() {
  return curationCommands(
    (name, description) => remote(name, description),
    (flags, work) => work(remoteCurator(flags as RemoteFlags)),
    ' on the server',
  );
}

function remoteCurator(flags: RemoteFlags): Curator {
  return {
    faces: async (query, page) => {
      const person = query.person === undefined ? undefined : (await findPerson(flags, query.person)).id;
      const answer = await get(
        flags,
        '/v1/faces',
        { person, cluster: query.cluster, unnamed: query.unnamed ? 'true' : undefined, limit: page.limit, cursor: page.cursor },
        curationWire.facesPage,
      );
      return { items: answer.items.map(curationWire.storedFaceFromWire), nextCursor: answer.next_cursor };
    },
    move: async (faces, to) => {
      const answer = await call(flags, '/v1/faces/move', { faces, to }, curationWire.movedFaces);
      return { moved: answer.moved, person: { id: answer.person.id, name: answer.person.name }, created: answer.person.created };
    },
    unassign: (faces) => call(flags, '/v1/faces/unassign', { faces }, curationWire.unassignedFaces),
    rename: async (person, name) => {
      const { id } = await findPerson(flags, person);
      return patch(flags, `/v1/people/${id}`, { name }, wire.person);
    },
    merge: async (from, into) => {
      const [source, target] = [await findPerson(flags, from), await findPerson(flags, into)];
      const answer = await call(flags, `/v1/people/${source.id}/merge`, { into: target.id }, curationWire.mergedPeople);
      return { mergedFaces: answer.merged_faces, into: answer.into };
    },
    mergeClusters: async (from, into) => {
      const answer = await call(flags, `/v1/clusters/${from}/merge`, { into }, curationWire.mergedClusters);
      return { mergedFaces: answer.merged_faces, into: answer.into };
    },
    reject: async (clusterId, person) => {
      const answer = await call(flags, `/v1/clusters/${clusterId}/reject`, { person }, curationWire.rejectedCluster);
      return { clusterId: answer.cluster, person: answer.person };
    },
  };
}
