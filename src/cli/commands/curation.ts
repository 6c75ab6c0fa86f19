import { Command, InvalidArgumentError } from 'commander';
import { FacedbError } from '../../errors/errors.js';
import type { FaceQuery, FacesPage } from '../../services/curation.js';
import type { FaceService } from '../../services/face-service.js';
import type { StoredFace } from '../../store/curation.js';
import { integerOption, print, type CliContext } from '../context.js';

/**
 * The curation commands (faces, move, unassign, rename, merge, merge-cluster, reject), defined once over a
 * Curator: the local one calls the service, `facedb client`'s calls the server (client-curation.ts). Same
 * options, same reports, same exit codes either way.
 */

type Ref = { id: number; name: string };

export interface Curator {
  faces(query: FaceQuery, page: { limit: number; cursor?: string }): Promise<FacesPage>;
  move(faceIds: number[], to: string): Promise<{ moved: number; person: Ref; created: boolean }>;
  unassign(faceIds: number[]): Promise<{ unassigned: number }>;
  rename(person: string | number, name: string): Promise<Ref>;
  merge(from: string | number, into: string | number): Promise<{ mergedFaces: number; into: Ref }>;
  mergeClusters(from: number, into: number): Promise<{ mergedFaces: number; into: number }>;
  reject(clusterId: number, person: string | number): Promise<{ clusterId: number; person: Ref }>;
}

/** Makes a command (name, description, and the options its kind needs: --json, and for the client --server …). */
export type CommandBase = (name: string, description: string) => Command;
/** Runs `work` with a curator for the command's flags, then releases it. */
export type WithCurator = <T>(flags: object, work: (curator: Curator) => Promise<T>) => Promise<T>;

/** The largest page the server gives; also the default here. */
const MAX_PAGE = 1000;

/** A person as given on the command line: `#12` or `12` is the id, anything else the name. */
export function personArg(value: string): string | number {
  return /^#?\d+$/.test(value.trim()) ? Number(value.trim().replace('#', '')) : value;
}

function faceIds(value: string, earlier: number[] | undefined): number[] {
  const id = Number(value.replace(/^#/, ''));
  if (!/^#?\d+$/.test(value.trim()) || !Number.isSafeInteger(id) || id < 1) throw new InvalidArgumentError('face ids are positive whole numbers');
  return [...(earlier ?? []), id];
}

const parseIds = (values: string[]): number[] => values.reduce<number[]>((ids, value) => faceIds(value, ids), []);

export function curationCommands(base: CommandBase, withCurator: WithCurator, where = ''): Command[] {
  const json = (flags: { json?: boolean }, value: unknown, text: string): void => print(flags.json ? JSON.stringify(value) : text);
  return [
    base('faces', `list stored faces${where}: a person's, a cluster's, the unnamed ones, or all (id, person or cluster, source, box, score, added)`)
      .option('--person <name|id>', "a person's faces (a name, or #<id>)")
      .option('--cluster <id>', "a cluster's faces", integerOption('--cluster'))
      .option('--unnamed', 'only faces with no person')
      .option('--limit <n>', `at most this many faces (1 to ${MAX_PAGE})`, integerOption('--limit'), MAX_PAGE)
      .option('--cursor <c>', 'continue after the last page (printed at its end)')
      .action(async (flags: { person?: string; cluster?: number; unnamed?: boolean; limit: number; cursor?: string; json?: boolean }) => {
        const query: FaceQuery = { person: flags.person === undefined ? undefined : personArg(flags.person), cluster: flags.cluster, unnamed: flags.unnamed };
        if (query.cluster !== undefined && query.cluster < 1) throw new FacedbError('not_found', `no cluster with id ${query.cluster}`);
        const page = await withCurator(flags, (curator) => curator.faces(query, { limit: flags.limit, cursor: flags.cursor }));
        json(flags, page, formatFaces(page));
      }),
    base('move', `give faces to a person${where} (named or unnamed faces; a new name creates the person)`)
      .argument('<face-id...>', 'the faces, as listed by facedb faces')
      .requiredOption('--to <person>', "the person's name")
      .action(async (ids: string[], flags: { to: string; json?: boolean }) => {
        const moved = await withCurator(flags, (curator) => curator.move(parseIds(ids), flags.to));
        json(flags, moved, `moved ${plural(moved.moved, 'face')} to ${moved.person.name} (person ${moved.person.id}${moved.created ? ', new' : ''})`);
      }),
    base('unassign', `take faces out of their person or cluster${where}: each becomes an unnamed face of its own that never goes back there by itself`)
      .argument('<face-id...>', 'the faces, as listed by facedb faces')
      .action(async (ids: string[], flags: { json?: boolean }) => {
        const result = await withCurator(flags, (curator) => curator.unassign(parseIds(ids)));
        json(flags, result, `took ${plural(result.unassigned, 'face')} out; they are unnamed faces of their own now`);
      }),
    base('rename', `rename a person${where} (name rules and look-alike checks as for a new person)`)
      .argument('<person>', 'the name, or #<id>')
      .argument('<new-name>', 'the new name')
      .action(async (person: string, name: string, flags: { json?: boolean }) => {
        const renamed = await withCurator(flags, (curator) => curator.rename(personArg(person), name));
        json(flags, renamed, `person ${renamed.id} is now ${renamed.name}`);
      }),
    base('merge', `merge a person into another${where}: every face moves over and the first person goes`)
      .argument('<person>', 'the person to merge away (name or #<id>)')
      .requiredOption('--into <person>', 'the person who keeps the faces (name or #<id>)')
      .action(async (person: string, flags: { into: string; json?: boolean }) => {
        const merged = await withCurator(flags, (curator) => curator.merge(personArg(person), personArg(flags.into)));
        json(flags, merged, `merged ${plural(merged.mergedFaces, 'face')} into ${merged.into.name} (person ${merged.into.id})`);
      }),
    base('merge-cluster', `merge a cluster of unnamed faces into another${where}`)
      .argument('<cluster-id>', 'the cluster to merge away', integerOption('<cluster-id>'))
      .requiredOption('--into <cluster-id>', 'the cluster that keeps the faces', integerOption('--into'))
      .action(async (from: number, flags: { into: number; json?: boolean }) => {
        for (const id of [from, flags.into]) if (id < 1) throw new FacedbError('not_found', `no cluster with id ${id}`);
        const merged = await withCurator(flags, (curator) => curator.mergeClusters(from, flags.into));
        json(flags, merged, `merged ${plural(merged.mergedFaces, 'face')} into cluster ${merged.into}`);
      }),
    base('reject', `record that a cluster is not a person${where}: never suggested for them, and name-cluster needs --force`)
      .argument('<cluster-id>', 'the cluster', integerOption('<cluster-id>'))
      .argument('<person>', 'the person it is not (name or #<id>)')
      .action(async (clusterId: number, person: string, flags: { json?: boolean }) => {
        if (clusterId < 1) throw new FacedbError('not_found', `no cluster with id ${clusterId}`);
        const rejected = await withCurator(flags, (curator) => curator.reject(clusterId, personArg(person)));
        json(flags, rejected, `cluster ${rejected.clusterId} is not ${rejected.person.name} (person ${rejected.person.id})`);
      }),
  ];
}

/** The local commands: the gallery opened by this process. */
export function localCurationCommands(ctx: CliContext): Command[] {
  const base: CommandBase = (name, description) => new Command(name).description(description).option('--json', 'print JSON');
  const withCurator: WithCurator = async (_flags, work) => {
    const service = await ctx.open('existing');
    try {
      return await work(localCurator(service));
    } finally {
      await service.close();
    }
  };
  return curationCommands(base, withCurator);
}

function localCurator(service: FaceService): Curator {
  return {
    faces: (query, page) => service.faces(query, page),
    move: (ids, to) => service.moveFaces(ids, to),
    unassign: (ids) => service.unassignFaces(ids),
    rename: (person, name) => service.renamePerson(person, name),
    merge: (from, into) => service.mergePeople(from, into),
    mergeClusters: (from, into) => service.mergeClusters(from, into),
    reject: (clusterId, person) => service.rejectCluster(clusterId, person),
  };
}

export function formatFaces(page: FacesPage): string {
  if (page.items.length === 0) return 'no faces';
  const lines = page.items.map((face) => {
    const box = `${Math.round(face.box.x)},${Math.round(face.box.y)} ${Math.round(face.box.width)}x${Math.round(face.box.height)}`;
    return [`#${face.id}`.padStart(7), owner(face).padEnd(24), source(face).padEnd(32), box.padEnd(18), face.detectionScore.toFixed(3), face.createdAt].join('  ');
  });
  if (page.nextCursor !== null) lines.push(`more: add --cursor ${page.nextCursor}`);
  return lines.join('\n');
}

function owner(face: StoredFace): string {
  if (face.personId !== null) return `${face.personName ?? ''} (person ${face.personId})`;
  return face.clusterId === null ? 'unnamed' : `cluster ${face.clusterId}`;
}

function source(face: StoredFace): string {
  if (face.sourcePath !== null) return face.sourcePath;
  return face.uploadName === null ? 'upload' : `upload ${face.uploadName}`;
}

function plural(n: number, one: string): string {
  return `${n} ${n === 1 ? one : `${one}s`}`;
}
