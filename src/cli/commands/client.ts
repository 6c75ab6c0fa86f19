import { Command } from 'commander';
import type { FaceAttribute } from '../../core/types.js';
import { FacedbError } from '../../errors/errors.js';
import { listImageArgs } from '../../image/scan.js';
import * as clusterWire from '../../server/cluster-wire.js';
import { MAX_ID } from '../../server/request-wire.js';
import * as wire from '../../server/wire.js';
import { FLAT_FOLDER, PhotoBatch, reportSkipped } from '../batch.js';
import { formatClusterRun, formatClusters, formatNamedCluster } from '../cluster-report.js';
import { integerOption, print, withAttributeOption, withFaceLimits, withOperatingPoint } from '../context.js';
import { call, form, get, remote, remove as del, type RemoteFlags } from '../remote.js';
import { formatAnalyze, formatIdentify, formatPeople, formatVerify } from '../report.js';
import { clientEnroll } from './client-enroll.js';
import { clientExport, clientImport, clientSearch } from './client-transfer.js';
import { clientCurationCommands, findPerson } from './client-curation.js';
import { runRemove, withRemoveTargets, type RemoveFlags } from './remove.js';

/** The same commands as the local ones, run on a facedb server: same reports, same exit codes. */

interface IdentifyFlags extends RemoteFlags {
  attributes?: FaceAttribute[];
  topK?: number;
  threshold?: number;
  far?: number;
  maxFaces?: number;
  minFaceSize?: number;
}

/** `--attributes` as the request's field (as the server reads it); not given: left out, the server's default. */
function attributesField(attributes: readonly FaceAttribute[] | undefined): string | undefined {
  if (attributes === undefined) return undefined;
  return attributes.length === 0 ? 'none' : attributes.join(',');
}

/** The photos of the arguments, after a line about what the folders held besides. */
async function photosOf(args: string[]) {
  const { images, skipped } = await listImageArgs(args);
  reportSkipped(skipped, FLAT_FOLDER);
  return images;
}

function identify(): Command {
  const command = remote('identify', 'identify every face in each photo on the server')
    .argument('<images...>', 'image files or folders of images')
    .option('-k, --top-k <n>', 'candidates per face', integerOption('--top-k'));
  return withAttributeOption(withFaceLimits(withOperatingPoint(command, 'match threshold'))).action(async (args: string[], flags: IdentifyFlags) => {
      const fields = {
        top_k: flags.topK,
        threshold: flags.threshold,
        far: flags.far,
        max_faces: flags.maxFaces,
        min_face_size: flags.minFaceSize,
        attributes: attributesField(flags.attributes),
      };
      const files = await photosOf(args);
      const batch = new PhotoBatch(files.length, flags.json);
      for (const file of files) {
        try {
          const result = wire.identifyFromWire(await call(flags, '/v1/identify', await form({ image: file }, fields), wire.identifyResponse));
          const known = result.faces.filter((face) => face.match !== null).length;
          batch.analysed(flags.json ? JSON.stringify({ file, ...result }) : `${formatIdentify(file, result)}\n`, result.faces.length, known);
        } catch (error) {
          batch.failedWith(file, error);
        }
      }
      batch.finish();
    });
}

function analyze(): Command {
  const command = remote('analyze', 'emotion, age and gender of every face, on the server').argument(
    '<images...>',
    'image files or folders of images',
  );
  return withAttributeOption(withFaceLimits(command, 'max-faces')).action(async (args: string[], flags: RemoteFlags & { maxFaces?: number; attributes?: FaceAttribute[] }) => {
      const files = await photosOf(args);
      const batch = new PhotoBatch(files.length, flags.json);
      for (const file of files) {
        try {
          const body = await form({ image: file }, { max_faces: flags.maxFaces, attributes: attributesField(flags.attributes) });
          const result = wire.analyzeFromWire(await call(flags, '/v1/analyze', body, wire.analyzeResponse));
          batch.analysed(flags.json ? JSON.stringify({ file, ...result }) : `${formatAnalyze(file, result)}\n`, result.faces.length);
        } catch (error) {
          batch.failedWith(file, error);
        }
      }
      batch.finish();
    });
}

function represent(): Command {
  const command = remote('represent', 'embeddings of every face, on the server, as JSON lines (one line per image)').argument(
    '<images...>',
    'image files or folders of images',
  );
  return withFaceLimits(command, 'max-faces').action(async (args: string[], flags: RemoteFlags & { maxFaces?: number }) => {
      const files = await photosOf(args);
      const batch = new PhotoBatch(files.length, true);
      for (const file of files) {
        try {
          const body = await form({ image: file }, { max_faces: flags.maxFaces });
          const result = wire.representFromWire(await call(flags, '/v1/represent', body, wire.representResponse));
          batch.analysed(JSON.stringify({ file, ...result }), result.faces.length);
        } catch (error) {
          batch.failedWith(file, error);
        }
      }
      batch.finish();
    });
}

function verify(): Command {
  const command = remote('verify', 'say whether the subjects of two photos (the face at the centre, else the largest) are the same person, on the server')
    .argument('<a>', 'first image')
    .argument('<b>', 'second image');
  return withAttributeOption(withOperatingPoint(command, 'match threshold')).action(
    async (a: string, b: string, flags: RemoteFlags & { threshold?: number; far?: number; attributes?: FaceAttribute[] }) => {
      const body = await form({ image_a: a, image_b: b }, { threshold: flags.threshold, far: flags.far, attributes: attributesField(flags.attributes) });
      const result = wire.verifyFromWire(await call(flags, '/v1/verify', body, wire.verifyResponse));
      print(flags.json ? JSON.stringify({ a, b, ...result }) : formatVerify(a, b, result));
    },
  );
}

/** The server's page size limit; also the local command's default. */
const MAX_PAGE = 1000;

function removePerson(): Command {
  const command = remote('remove', 'erase a person on the server with all their faces and embeddings, or single faces, or a cluster of unnamed faces (needs an admin key)');
  return withRemoveTargets(command, 'facedb client people').action(async (key: string | undefined, flags: RemoteFlags & RemoveFlags) => {
    // The routes take ids up to MAX_ID; any larger id is simply no such face or cluster, as it is locally.
    const known = (id: number, what: string): number => {
      if (id > MAX_ID) throw new FacedbError('not_found', `no ${what} with id ${id}`);
      return id;
    };
    await runRemove(key, flags, {
      person: async (personKey) => {
        const person = await findPerson(flags, typeof personKey === 'number' ? `#${personKey}` : personKey);
        const answer = await del(flags, `/v1/people/${person.id}`, wire.personRemoved);
        return { removed: person.name, personId: person.id, facesRemoved: answer.faces_removed };
      },
      face: async (id) => ({ named: (await del(flags, `/v1/faces/${known(id, 'face')}`, wire.faceRemoved)).named }),
      cluster: async (id) => ({ facesRemoved: (await del(flags, `/v1/clusters/${known(id, 'cluster')}`, clusterWire.clusterRemoved)).faces_removed }),
    });
  });
}

function cluster(): Command {
  return remote('cluster', 'group the unnamed faces on the server into candidate people; new faces join the existing clusters (needs an admin key)')
    .option('--full', 're-cluster every unnamed face from scratch instead of placing only the new ones')
    .action(async (flags: RemoteFlags & { full?: boolean }) => {
      const sent = performance.now();
      const answer = await call(flags, '/v1/clusters', { full: flags.full ?? false }, clusterWire.clusterRun);
      const run = clusterWire.clusterRunFromWire(answer, performance.now() - sent);
      print(flags.json ? JSON.stringify(run) : formatClusterRun(run));
    });
}

function people(): Command {
  return remote('people', 'list the people on the server and how many faces each has, or with --clusters the clusters of unnamed faces')
    .option('--limit <n>', 'at most this many people (or clusters)', integerOption('--limit'), MAX_PAGE)
    .option('--offset <n>', 'skip this many people (or clusters)', integerOption('--offset'), 0)
    .option('--clusters', 'list the clusters of unnamed faces instead (candidate people), largest first')
    .option('--samples <n>', 'with --clusters: sample photos per cluster (default 4)', integerOption('--samples'))
    .action(async (flags: RemoteFlags & { limit: number; offset: number; clusters?: boolean; samples?: number }) => {
      const page = { limit: flags.limit, offset: flags.offset };
      if (flags.clusters) {
        const listing = clusterWire.clusterPageFromWire(await get(flags, '/v1/clusters', { ...page, samples: flags.samples }, clusterWire.clusterPage));
        print(flags.json ? JSON.stringify(listing) : formatClusters(listing));
        return;
      }
      const answer = await get(flags, '/v1/people', page, wire.peoplePage);
      const listed = { items: answer.items.map(clusterWire.personFromWire), total: answer.total };
      print(flags.json ? JSON.stringify(listed) : formatPeople(listed.items, listed.total));
    });
}

function nameCluster(): Command {
  return remote('name-cluster', 'turn a cluster on the server into a person: a new person of that name, or more faces for an existing one (needs an admin key)')
    .argument('<cluster-id>', 'the cluster, as listed by facedb client people --clusters', integerOption('<cluster-id>'))
    .argument('<name>', 'the person\'s name, e.g. "Ada Lovelace"')
    .option('--force', 'add it to an existing person even when it is far from them or was rejected for them')
    .action(async (clusterId: number, name: string, flags: RemoteFlags & { force?: boolean }) => {
      if (name.trim() === '') throw new FacedbError('invalid_input', 'the name must not be empty');
      // The route takes positive ids only; locally any other id is simply no cluster.
      if (clusterId < 1) throw new FacedbError('not_found', `no cluster with id ${clusterId}`);
      const answer = await call(flags, `/v1/clusters/${clusterId}/name`, { name, force: flags.force ?? false }, clusterWire.namedCluster);
      const named = clusterWire.namedClusterFromWire(answer);
      print(flags.json ? JSON.stringify(named) : formatNamedCluster(clusterId, named));
    });
}

export function clientCommand(): Command {
  const client = new Command('client').description(
    'run identify, verify, analyze, represent, enroll, people, remove, cluster, name-cluster, faces, move, unassign, rename, merge, ' +
      'merge-cluster, reject, search, export or import on a facedb server (facedb serve); ' +
      'the server and the key may come from FACEDB_SERVER and FACEDB_API_KEY',
  );
  for (const command of [identify(), verify(), analyze(), represent(), clientEnroll(), people(), removePerson(), cluster(), nameCluster(), ...clientCurationCommands(), clientSearch(), clientExport(), clientImport()]) {
    client.addCommand(command.exitOverride());
  }
  return client;
}
