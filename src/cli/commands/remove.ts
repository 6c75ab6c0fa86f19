import { Command, InvalidArgumentError } from 'commander';
import { FacedbError, toFacedbError } from '../../errors/errors.js';
import { print, type CliContext } from '../context.js';
import { formatRemoved } from '../report.js';

/** What `facedb remove` and `facedb client remove` erase: the same options, checks and reports over either. */
export interface Eraser {
  person(key: string | number): Promise<{ removed: string; personId: number; facesRemoved: number }>;
  /** not_found when there is no such face. */
  face(id: number): Promise<{ named: boolean }>;
  cluster(id: number): Promise<{ facesRemoved: number }>;
}

export interface RemoveFlags {
  face?: number[];
  cluster?: number;
  json?: boolean;
}

function positiveId(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) throw new InvalidArgumentError(`${name} takes whole-number ids`);
    return parsed;
  };
}

/** Adds the person argument and the --face / --cluster options. */
export function withRemoveTargets(command: Command, listedBy: string): Command {
  const faceId = positiveId('--face');
  return command
    .argument('[person]', `the name as listed by \`${listedBy}\` (or #<id>)`)
    .option('--face <id...>', 'erase these faces instead, a person\'s or unnamed ones (ids as in the faces and clusters listings)', (value: string, earlier: number[] | undefined) => [
      ...(earlier ?? []),
      faceId(value),
    ])
    .option('--cluster <id>', 'erase this cluster with every unnamed face in it instead', positiveId('--cluster'));
}

/**
 * Runs one removal. Faces are erased one by one: an unknown id erases nothing and is reported at the end as
 * not_found (exit 5), after the faces that were erased.
 */
export async function runRemove(person: string | undefined, flags: RemoveFlags, eraser: Eraser): Promise<void> {
  const targets = [person !== undefined, flags.face !== undefined, flags.cluster !== undefined].filter(Boolean).length;
  if (targets !== 1) throw new FacedbError('invalid_input', 'give one of: a person, --face <id...>, --cluster <id>');
  if (person !== undefined) {
    const removed = await eraser.person(/^#\d+$/.test(person) ? Number(person.slice(1)) : person);
    print(flags.json ? JSON.stringify(removed) : formatRemoved(removed));
    return;
  }
  if (flags.cluster !== undefined) {
    const clusterId = flags.cluster;
    if (clusterId < 1) throw new FacedbError('not_found', `no cluster with id ${clusterId}`);
    const { facesRemoved } = await eraser.cluster(clusterId);
    print(flags.json ? JSON.stringify({ clusterId, facesRemoved }) : `removed cluster #${clusterId} (${facesRemoved} face${facesRemoved === 1 ? '' : 's'})`);
    return;
  }
  const removed: Array<{ faceId: number; named: boolean }> = [];
  const missing: number[] = [];
  for (const faceId of new Set(flags.face)) {
    try {
      if (faceId < 1) throw new FacedbError('not_found', `no face #${faceId}`);
      const { named } = await eraser.face(faceId);
      removed.push({ faceId, named });
      if (!flags.json) print(`removed ${named ? '' : 'unnamed '}face #${faceId}`);
    } catch (error) {
      if (toFacedbError(error).code !== 'not_found') throw error;
      missing.push(faceId);
    }
  }
  if (flags.json) print(JSON.stringify({ removed, notFound: missing }));
  if (missing.length > 0) throw new FacedbError('not_found', `no face ${missing.map((id) => `#${id}`).join(', ')} in the gallery`);
}

export function removeCommand(ctx: CliContext): Command {
  return withRemoveTargets(new Command('remove').description('erase a person with all their faces and embeddings, or single faces, or a cluster of unnamed faces'), 'facedb people')
    .option('--json', 'print the result as JSON')
    .action(async (person: string | undefined, flags: RemoveFlags) => {
      const service = await ctx.open('existing');
      try {
        await runRemove(person, flags, {
          person: async (key) => {
            const { person: removed, facesRemoved } = await service.removePerson(key);
            return { removed: removed.name, personId: removed.id, facesRemoved };
          },
          face: (id) => service.removeFace(id),
          cluster: (id) => service.clusters.removeCluster(id),
        });
      } finally {
        await service.close();
      }
    });
}
