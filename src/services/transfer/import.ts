import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { calibrationKey } from '../../core/confidence.js';
import type { ModelInfo } from '../../core/types.js';
import { readModelPack } from '../../engine/onnx/pack.js';
import { DEFAULT_ENGINE, engineByName, engineForModel } from '../../engine/registry.js';
import { FacedbError, toFacedbError } from '../../errors/errors.js';
import { checkGalleryCalibration, type GalleryCalibration } from '../../store/calibration.js';
import type { GalleryConstraints } from '../../store/curation.js';
import type { NewFace } from '../../store/store.js';
import type { ServiceContext } from '../context.js';
import type { ImportSummary } from '../results.js';
import {
  COUNTED,
  decodeEmbedding,
  headerSchema,
  MAX_LINE_BYTES,
  RECORD_RANK,
  recordSchema,
  trailerSchema,
  zeroCounts,
  type FaceLine,
  type TransferCounts,
  type TransferHeader,
  type TransferRecord,
  type UnnamedFaceLine,
} from './format.js';

/** Faces written per store call. */
const BATCH = 500;

/**
 * Loads a portable gallery file (format.ts) into this gallery: an empty one (then pinned to the file's model), or
 * one pinned to the same model. The whole file is read and checked first (format, every record, references, the
 * counts and SHA-256 of its trailer, the model): a cut, foreign or altered file is refused as invalid_input, a file
 * of another model as model_mismatch, and nothing is written. Then it is read again and written a batch at a time.
 * Importing twice adds nothing: people are matched by name, a person's faces by photo (content hash), unnamed faces
 * by photo, as enrollment does; ids are the importing gallery's own. Should the store fail midway (a full disk),
 * the people created by this import are removed if no face was written yet; otherwise running the import again
 * completes it.
 */
export async function importGallery(context: ServiceContext, path: string): Promise<ImportSummary> {
  const header = await checkFile(path);
  const model = fileModel(header);
  await checkModel(context, model);
  return applyFile(context, path, model);
}

// ---------------------------------------------------------------- reading

/** The file's lines (without "\n"), as raw bytes; invalid_input for a line over MAX_LINE_BYTES. */
async function* rawLines(path: string): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, start)) {
        pending.push(chunk.subarray(start, at));
        yield Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
        start = at + 1;
      }
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      if (pendingBytes > MAX_LINE_BYTES) throw notThisFormat(`a line is longer than ${MAX_LINE_BYTES} bytes`);
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'EISDIR') throw new FacedbError('not_found', `cannot read ${path}`, { cause: error });
    throw error;
  } finally {
    stream.destroy();
  }
  if (pendingBytes > 0) yield Buffer.concat(pending); // a last line without "\n"
}

function notThisFormat(why: string): FacedbError {
  return new FacedbError('invalid_input', `not a complete facedb gallery file (facedb export): ${why}; nothing was imported`);
}

function parseLine(line: Buffer, number: number): unknown {
  try {
    return JSON.parse(line.toString('utf8'));
  } catch {
    throw notThisFormat(`line ${number} is not JSON`);
  }
}

// ---------------------------------------------------------------- pass 1: check everything, write nothing

async function checkFile(path: string): Promise<TransferHeader> {
  const digest = createHash('sha256');
  const counts = zeroCounts();
  const ids = { person: new Set<number>(), cluster: new Set<number>(), face: new Set<number>() };
  let header: TransferHeader | undefined;
  let trailerSeen = false;
  let rank = 0;
  let number = 0;
  for await (const line of rawLines(path)) {
    number += 1;
    if (trailerSeen) {
      if (line.length === 0) continue;
      throw notThisFormat(`line ${number} follows the trailer`);
    }
    const json = parseLine(line, number);
    if (header === undefined) {
      const parsed = headerSchema.safeParse(json);
      if (!parsed.success) throw notThisFormat('the first line is not a facedb-gallery version 1 header');
      header = parsed.data;
    } else if ((json as { type?: unknown } | null)?.type === 'trailer') {
      const trailer = trailerSchema.safeParse(json);
      if (!trailer.success) throw notThisFormat(`line ${number} is not a valid trailer`);
      if (trailer.data.sha256 !== digest.digest('hex')) throw notThisFormat('its SHA-256 does not match the trailer (the file was changed)');
      if (!sameCounts(trailer.data.counts, counts)) throw notThisFormat('it holds other counts of records than its trailer says');
      trailerSeen = true;
      continue;
    } else {
      const parsed = recordSchema.safeParse(json);
      if (!parsed.success) throw notThisFormat(`line ${number} is not a valid record (${parsed.error.issues[0]?.message ?? 'unknown shape'})`);
      const record = parsed.data;
      if (RECORD_RANK[record.type] < rank) throw notThisFormat(`line ${number}: a ${record.type} record out of order`);
      rank = RECORD_RANK[record.type];
      checkRecord(record, header, ids, number);
      counts[COUNTED[record.type]] += 1;
      if ('photo' in record && record.photo !== undefined) counts.photos += 1;
    }
    digest.update(line);
    digest.update('\n');
  }
  if (header === undefined) throw notThisFormat('it is empty');
  if (!trailerSeen) throw notThisFormat('it ends before its trailer (cut short?)');
  return header;
}

function checkRecord(
  record: TransferRecord,
  header: TransferHeader,
  ids: { person: Set<number>; cluster: Set<number>; face: Set<number> },
  number: number,
): void {
  const fail = (why: string): never => {
    throw notThisFormat(`line ${number}: ${why}`);
  };
  const unique = (set: Set<number>, id: number): void => {
    if (set.has(id)) fail(`id ${id} appears twice`);
    set.add(id);
  };
  switch (record.type) {
    case 'person':
      return unique(ids.person, record.id);
    case 'cluster':
      return unique(ids.cluster, record.id);
    case 'face':
    case 'unnamed_face':
      unique(ids.face, record.id);
      if (record.type === 'face' && !ids.person.has(record.person)) fail(`face ${record.id} belongs to person ${record.person}, who is not in the file`);
      if (record.type === 'unnamed_face' && record.cluster !== null && !ids.cluster.has(record.cluster)) fail(`face ${record.id} is in cluster ${record.cluster}, which is not in the file`);
      if (decodeEmbedding(record.embedding, header.model.dimensions) === null) fail(`face ${record.id} has no ${header.model.dimensions}-value embedding`);
      if (record.photo !== undefined && !header.photos) fail('a photo in a file whose header says it has none');
      return;
    case 'calibration':
      try {
        checkGalleryCalibration(record.calibration as unknown as GalleryCalibration);
      } catch (error) {
        fail(toFacedbError(error).message);
      }
      if (record.calibration['model'] !== calibrationKey(header.model)) fail('the calibration was measured with another model than the file holds');
      return;
    case 'constraint': {
      const { kind, face, other_face: other, cluster, person } = record;
      const shape = { faces_apart: [true, true, false, false], face_not_person: [true, false, false, true], cluster_not_person: [false, false, true, true] }[kind];
      if ([face, other, cluster, person].some((value, i) => (value !== null) !== shape[i])) fail(`a ${kind} constraint with other fields than it takes`);
      if ((face !== null && !ids.face.has(face)) || (other !== null && !ids.face.has(other))) fail('a constraint names a face that is not in the file');
      if (cluster !== null && !ids.cluster.has(cluster)) fail('a constraint names a cluster that is not in the file');
      if (person !== null && !ids.person.has(person)) fail('a constraint names a person who is not in the file');
      return;
    }
  }
}

function sameCounts(a: TransferCounts, b: TransferCounts): boolean {
  return (Object.keys(b) as Array<keyof TransferCounts>).every((key) => a[key] === b[key]);
}

function fileModel(header: TransferHeader): ModelInfo {
  const { id, version, dimensions, metric, default_threshold: defaultThreshold } = header.model;
  return { id, version, dimensions, metric, defaultThreshold };
}

/**
 * The file's model must be the gallery's (pinned), or, for an empty gallery, the one this facedb would embed with
 * (its configured engine or model pack, else the default): else model_mismatch, naming the way to move a gallery.
 */
async function checkModel(context: ServiceContext, model: ModelInfo): Promise<void> {
  const { store, config } = context;
  const pinned = await store.getModel();
  const theirs = calibrationKey(model);
  if (pinned !== null) {
    if (calibrationKey(pinned) === theirs) return;
    throw new FacedbError(
      'model_mismatch',
      `the file holds embeddings of ${theirs}, but this gallery is pinned to ${calibrationKey(pinned)}: import it into an empty gallery, ` +
        `and move that one to ${calibrationKey(pinned)} with \`facedb reembed --to <new db>\``,
      { details: { file: theirs, pinned: calibrationKey(pinned) } },
    );
  }
  const pack = config.modelPack === undefined ? undefined : readModelPack(config.modelPack);
  const wanted = engineByName(config.engine ?? DEFAULT_ENGINE, pack);
  if (calibrationKey(wanted.model) === theirs) return;
  const own = engineForModel(model, pack);
  throw new FacedbError(
    'model_mismatch',
    `the file holds embeddings of ${theirs}, but this facedb embeds with ${calibrationKey(wanted.model)} (engine ${wanted.name}): ` +
      (own ? `import it with --engine ${own.name}, then move it to another model with \`facedb reembed\` if you wish` : `import it with the facedb that exported it, then move it with \`facedb reembed\``),
    { details: { file: theirs, engine: wanted.name } },
  );
}

// ---------------------------------------------------------------- pass 2: write

async function applyFile(context: ServiceContext, path: string, model: ModelInfo): Promise<ImportSummary> {
  const { store } = context;
  await store.ensureModel(model);
  const summary: ImportSummary = {
    model: { id: model.id, version: model.version },
    people: { added: 0, existing: 0 },
    faces: { added: 0, skipped: 0 },
    unnamedFaces: { added: 0, skipped: 0 },
    clusters: 0,
    constraints: 0,
    calibration: 'none',
  };
  const personIds = new Map<number, number>();
  const createdPeople: number[] = [];
  const people: Array<{ id: number; name: string }> = [];
  const named: FaceLine[] = [];
  const unnamed: UnnamedFaceLine[] = [];
  /** The file's cluster id → the new ids of its faces added by this import. */
  const clusters = new Map<number, number[]>();
  /** The file's face id → the new id, for the faces this import added (constraints name them). */
  const faceIds = new Map<number, number>();
  const constraints: GalleryConstraints = { facesApart: [], faceNotPerson: [], clusterNotPerson: [] };
  let facesWritten = false;
  let calibration: GalleryCalibration | undefined;

  const flushPeople = async (): Promise<void> => {
    try {
      for (const person of people.splice(0)) {
        const found = await store.findPersonByName(person.name);
        if (found) {
          personIds.set(person.id, found.id);
          summary.people.existing += 1;
          continue;
        }
        const created = await store.upsertPerson(person.name);
        personIds.set(person.id, created.id);
        createdPeople.push(created.id);
        summary.people.added += 1;
      }
    } catch (error) {
      // A name the store refuses (a look-alike of someone already there): the people made so far have no face yet.
      if (!facesWritten) for (const id of createdPeople) await store.removePerson(id).catch(() => undefined);
      throw error;
    }
  };
  const flushNamed = async (): Promise<void> => {
    const byPerson = new Map<number, FaceLine[]>();
    for (const face of named.splice(0)) byPerson.set(face.person, [...(byPerson.get(face.person) ?? []), face]);
    for (const [person, faces] of byPerson) {
      facesWritten = true;
      const added = await store.addFaces(personIds.get(person)!, faces.map((face) => newFace(face, model)));
      const fileIdOf = new Map(faces.map((face) => [face.content_hash, face.id]));
      for (const face of added) faceIds.set(fileIdOf.get(face.contentHash)!, face.id);
      summary.faces.added += added.length;
      summary.faces.skipped += faces.length - added.length;
    }
  };
  const flushUnnamed = async (): Promise<void> => {
    const faces = unnamed.splice(0);
    if (faces.length === 0) return;
    facesWritten = true;
    const added = await store.addUnnamedFaces(faces.map((face) => newFace(face, model)));
    summary.unnamedFaces.added += added.length;
    summary.unnamedFaces.skipped += faces.length - added.length;
    // A photo is added whole or skipped whole, its faces in the order given: pair them up photo by photo.
    const addedOfPhoto = new Map<string, number[]>();
    for (const face of added) addedOfPhoto.set(face.contentHash, [...(addedOfPhoto.get(face.contentHash) ?? []), face.id]);
    for (const face of faces) {
      const newId = addedOfPhoto.get(face.content_hash)?.shift();
      if (newId !== undefined) faceIds.set(face.id, newId);
      if (newId === undefined || face.cluster === null) continue;
      clusters.set(face.cluster, [...(clusters.get(face.cluster) ?? []), newId]);
    }
  };

  let first = true;
  for await (const line of rawLines(path)) {
    if (first || line.length === 0) {
      first = false;
      continue;
    }
    const json = JSON.parse(line.toString('utf8')) as { type: string };
    if (json.type === 'trailer') break;
    const record = recordSchema.parse(json);
    switch (record.type) {
      case 'person':
        people.push(record);
        if (people.length >= BATCH) await flushPeople();
        break;
      case 'cluster':
        break; // made from their faces below
      case 'face':
        await flushPeople();
        named.push(record);
        if (named.length >= BATCH) await flushNamed();
        break;
      case 'unnamed_face': {
        await flushPeople();
        // Faces of one photo go in one call (the store records an unnamed photo once): flush between photos only.
        const last = unnamed[unnamed.length - 1];
        if (unnamed.length >= BATCH && last !== undefined && last.content_hash !== record.content_hash) await flushUnnamed();
        unnamed.push(record);
        break;
      }
      case 'calibration':
        calibration = record.calibration as unknown as GalleryCalibration;
        break;
      case 'constraint': {
        const { face, other_face: other, cluster, person } = record;
        if (record.kind === 'faces_apart') constraints.facesApart.push([face!, other!]);
        else if (record.kind === 'face_not_person') constraints.faceNotPerson.push([face!, person!]);
        else constraints.clusterNotPerson.push([cluster!, person!]);
        break;
      }
    }
  }
  await flushPeople();
  await flushNamed();
  await flushUnnamed();
  const clusterIds = new Map<number, number>();
  if (clusters.size > 0) {
    const made = await store.saveClusters([...clusters.values()].map((ids) => ({ clusterId: null, faceIds: ids })));
    [...clusters.keys()].forEach((fileId, i) => clusterIds.set(fileId, made[i]!));
    summary.clusters = made.length;
  }
  // Only constraints on what this import added (or people it matched): an import run again adds none.
  const mapped = <T extends [number, number]>(pairs: T[], first: Map<number, number>, second: Map<number, number>): Array<[number, number]> =>
    pairs.flatMap(([a, b]) => (first.has(a) && second.has(b) ? [[first.get(a)!, second.get(b)!] as [number, number]] : []));
  summary.constraints = await store.addConstraints({
    facesApart: mapped(constraints.facesApart, faceIds, faceIds),
    faceNotPerson: mapped(constraints.faceNotPerson, faceIds, personIds),
    clusterNotPerson: mapped(constraints.clusterNotPerson, clusterIds, personIds),
  });
  if (calibration !== undefined) {
    if ((await store.getCalibration()) === null) {
      await store.setCalibration(calibration);
      await context.refreshGalleryCalibration();
      summary.calibration = 'added';
    } else summary.calibration = 'kept';
  }
  return summary;
}

function newFace(face: FaceLine | UnnamedFaceLine, model: ModelInfo): NewFace {
  return {
    sourcePath: face.source_path,
    uploadName: face.upload_name,
    contentHash: face.content_hash,
    box: face.box,
    detectionScore: face.detection_score,
    embedding: decodeEmbedding(face.embedding, model.dimensions)!,
    crop: face.crop === null ? null : Buffer.from(face.crop, 'base64'),
    photo: face.photo === undefined ? null : Buffer.from(face.photo, 'base64'),
  };
}
