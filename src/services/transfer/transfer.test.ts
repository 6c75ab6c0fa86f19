import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lfwPhoto, tempDir, testImage } from '../../../test/fixtures.js';
import { galleryDigest as storedDigest } from '../../../test/gallery-digest.js';
import { findPostgresBinaries, startPostgres, type TestPostgres } from '../../../test/postgres-server.js';
import { writeExport } from '../../cli/commands/transfer.js';
import { FacedbError } from '../../errors/errors.js';
import { openFacedb } from '../../facedb.js';
import type { FaceService } from '../face-service.js';

/*
 * facedb export / import on real SQLite files and a real PostgreSQL server, with the fake engine (the model is not
 * what is tested; the same photo always gives the same embedding): a round trip keeps every person, face,
 * embedding, crop, kept photo, unnamed face and cluster grouping, and identify answers alike; importing twice adds
 * nothing; a cut, altered or foreign file and a file of another model are refused with nothing stored changed.
 */
const PROBES = [lfwPhoto('Bono', 1), lfwPhoto('Bill_Clinton', 2), testImage('group.jpg'), lfwPhoto('Britney_Spears', 2)];

/**
 * Everything a gallery holds, without its ids (which each gallery gives its own), to compare two galleries;
 * test/gallery-digest.ts compares one gallery before and after, ids included.
 */
async function galleryDigest(service: FaceService): Promise<string> {
  const { store } = service;
  const people = (await store.listPeople({ limit: 1000, offset: 0 })).items.map((p) => [p.name, p.faceCount]).sort();
  const faces: string[] = [];
  const clusters = new Map<number, string[]>();
  for (let afterId = 0; ; ) {
    const page = await store.facesAfter(afterId, 100);
    for (const face of page) {
      const photo = face.hasPhoto ? createHash('sha256').update((await store.getFacePhoto(face.id))!).digest('hex') : null;
      const key = JSON.stringify([face.contentHash, face.box, face.sourcePath]);
      faces.push(JSON.stringify([key, face.personName, Buffer.from(face.embedding.buffer).toString('base64'), face.crop && Buffer.from(face.crop).toString('base64'), photo]));
      if (face.clusterId !== null) clusters.set(face.clusterId, [...(clusters.get(face.clusterId) ?? []), key]);
    }
    if (page.length === 0) break;
    afterId = page[page.length - 1]!.id;
  }
  const groups = [...clusters.values()].map((keys) => keys.sort().join('|')).sort();
  // Constraints by what they name, not by id.
  const keyOf = new Map<number, string>();
  const nameOf = new Map((await store.listPeople({ limit: 1000, offset: 0 })).items.map((p) => [p.id, p.name]));
  for (let afterId = 0; ; ) {
    const page = await store.facesAfter(afterId, 100);
    for (const face of page) keyOf.set(face.id, JSON.stringify([face.contentHash, face.box, face.sourcePath]));
    if (page.length === 0) break;
    afterId = page[page.length - 1]!.id;
  }
  const groupOf = new Map([...clusters].map(([id, keys]) => [id, keys.sort().join('|')]));
  const { facesApart, faceNotPerson, clusterNotPerson } = await store.listConstraints();
  const constraints = [
    ...facesApart.map(([a, b]) => ['apart', ...[keyOf.get(a), keyOf.get(b)].sort()]),
    ...faceNotPerson.map(([face, person]) => ['not', keyOf.get(face), nameOf.get(person)]),
    ...clusterNotPerson.map(([cluster, person]) => ['reject', groupOf.get(cluster), nameOf.get(person)]),
  ].map((c) => JSON.stringify(c)).sort();
  return createHash('sha256').update(JSON.stringify([await store.getModel(), people, faces.sort(), groups, constraints])).digest('hex');
}

async function answers(service: FaceService): Promise<string> {
  const all = [];
  for (const probe of PROBES) {
    const result = await service.identify({ path: probe });
    all.push(result.faces.map((face) => [face.box, face.match?.person ?? null, face.candidates.map((c) => [c.person, c.distance])]));
  }
  return JSON.stringify(all);
}

async function exportTo(service: FaceService, file: string, photos = true): Promise<void> {
  await writeExport(service.exportGallery({ photos }), file);
}

async function refused(promise: Promise<unknown>, code: FacedbError['code'], says?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FacedbError, String(error));
    assert.equal(error.code, code, error.message);
    if (says) assert.match(error.message, says);
    return true;
  });
}

/** The file's lines rewritten by `change`, with a trailer that matches again (a well-formed file of other content). */
function resealed(text: string, change: (records: Array<Record<string, unknown>>) => void): string {
  const records = text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const trailer = records.pop()!;
  change(records);
  const body = records.map((record) => `${JSON.stringify(record)}\n`).join('');
  return `${body}${JSON.stringify({ ...trailer, sha256: createHash('sha256').update(body).digest('hex') })}\n`;
}

void describe('export and import (fake engine, real SQLite files)', () => {
  let dir: string;
  let source: FaceService;
  let file: string;

  before(async () => {
    dir = await tempDir();
    source = await openFacedb({ db: join(dir, 'source.sqlite'), engine: 'fake' });
    await source.enroll([
      { person: 'Bono', path: lfwPhoto('Bono', 1) },
      { person: 'Bono', path: lfwPhoto('Bono', 2) },
      { person: 'Bill Clinton', path: lfwPhoto('Bill_Clinton', 1) },
    ]);
    // An upload: facedb keeps its photo bytes, which only --photos carries.
    await source.enrollImage('Bill Clinton', { bytes: await readFile(lfwPhoto('Bill_Clinton', 2)) });
    await source.clusters.enroll([testImage('group.jpg'), lfwPhoto('Britney_Spears', 1), lfwPhoto('Britney_Spears', 2)]);
    // Corrections leave constraints behind: a face taken from Bono, a cluster that is not Bill Clinton.
    const bono = await source.findPerson('Bono');
    const [taken] = (await source.listFaces(bono.id, { limit: 1, offset: 0 })).items;
    await source.unassignFaces([taken!.id]);
    const [cluster] = (await source.clusters.listClusters({ limit: 1, offset: 0 }, 0)).items;
    await source.rejectCluster(cluster!.id, 'Bill Clinton');
    const constraints = await source.store.listConstraints();
    assert.ok(constraints.faceNotPerson.length > 0 && constraints.clusterNotPerson.length > 0);
    file = join(dir, 'gallery.jsonl');
    await exportTo(source, file);
  });
  after(async () => {
    await source.close();
  });

  void it('writes a header, one record per line and a trailer with counts and SHA-256', async () => {
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    const header = JSON.parse(lines[0]!) as { format: string; model: { id: string }; embedding_encoding: string };
    assert.equal(header.format, 'facedb-gallery');
    assert.equal(header.model.id, (await source.store.getModel())!.id);
    assert.equal(header.embedding_encoding, 'base64 float32 little-endian');
    const trailer = JSON.parse(lines[lines.length - 1]!) as { counts: Record<string, number>; sha256: string };
    assert.equal(trailer.counts['people'], 2);
    assert.equal(trailer.counts['faces'], 3, 'one of Bono\'s faces was taken from him');
    const stored = await source.store.listConstraints();
    assert.equal(trailer.counts['constraints'], stored.facesApart.length + stored.faceNotPerson.length + stored.clusterNotPerson.length);
    assert.equal(trailer.counts['unnamed_faces'], (await source.store.countUnnamedFaces()).total);
    assert.equal(trailer.counts['photos'], 1);
    assert.equal(trailer.sha256, createHash('sha256').update(lines.slice(0, -1).map((line) => `${line}\n`).join('')).digest('hex'));
  });

  void it('imports into an empty gallery: the same gallery, the same answers; twice adds nothing', async () => {
    const target = await openFacedb({ db: join(dir, 'copy.sqlite'), engine: 'fake' });
    try {
      const first = await target.importGallery(file);
      assert.deepEqual([first.people.added, first.faces.added, first.faces.skipped], [2, 3, 0]);
      assert.ok(first.clusters > 0);
      assert.ok(first.constraints > 0);
      assert.equal(await galleryDigest(target), await galleryDigest(source));
      assert.equal(await answers(target), await answers(source));
      const before = await galleryDigest(target);
      const again = await target.importGallery(file);
      assert.deepEqual([again.people.added, again.faces.added, again.unnamedFaces.added, again.clusters, again.constraints], [0, 0, 0, 0, 0]);
      assert.equal(await galleryDigest(target), before);
    } finally {
      await target.close();
    }
  });

  void it('refuses a cut, altered or foreign file, and a file of another model, changing nothing', async () => {
    const target = await openFacedb({ db: join(dir, 'guarded.sqlite'), engine: 'fake' });
    try {
      await target.enroll([{ person: 'Ada', path: lfwPhoto('Bono', 3) }]);
      const before = await storedDigest(target.store);
      const text = await readFile(file, 'utf8');
      const bad = async (name: string, content: string | Buffer, code: FacedbError['code'], says?: RegExp): Promise<void> => {
        const path = join(dir, name);
        await writeFile(path, content);
        await refused(target.importGallery(path), code, says);
        assert.equal(await storedDigest(target.store), before, `${name} changed the gallery`);
      };
      const lines = text.split('\n');
      await bad('cut-at-line.jsonl', lines.slice(0, 5).join('\n') + '\n', 'invalid_input', /cut short/);
      await bad('cut-mid-line.jsonl', text.slice(0, Math.floor(text.length * 0.7)), 'invalid_input');
      await bad('altered.jsonl', text.replace('"name":"Bono"', '"name":"Bonn"'), 'invalid_input', /SHA-256/);
      await bad('photo.jsonl', await readFile(lfwPhoto('Bono', 1)), 'invalid_input');
      await bad('empty.jsonl', '', 'invalid_input');
      await bad('other.jsonl', '{"type":"header","format":"something-else","version":1}\n', 'invalid_input');
      const otherModel = resealed(text, (records) => Object.assign((records[0] as { model: Record<string, unknown> }).model, { id: 'another-model' }));
      await bad('other-model.jsonl', otherModel, 'model_mismatch', /facedb reembed/);
      const dangling = resealed(text, (records) => records.splice(records.findIndex((r) => r['type'] === 'person'), 1));
      await bad('dangling.jsonl', dangling, 'invalid_input', /not in the file/);
    } finally {
      await target.close();
    }
  });
});

const binaries = findPostgresBinaries();
void describe('export and import: SQLite → PostgreSQL → SQLite', { skip: binaries === undefined ? 'no PostgreSQL installed' : false }, () => {
  let server: TestPostgres;
  before(async () => {
    server = await startPostgres(binaries);
  });
  after(async () => {
    await server.stop();
  });

  void it('gives identical identify answers and the same gallery at every step', async () => {
    const dir = await tempDir();
    const source = await openFacedb({ db: join(dir, 'source.sqlite'), engine: 'fake' });
    const middle = await openFacedb({ db: server.url, engine: 'fake' });
    const back = await openFacedb({ db: join(dir, 'back.sqlite'), engine: 'fake' });
    try {
      await source.enroll(['Bono', 'Bill_Clinton'].flatMap((who) => [1, 2].map((i) => ({ person: who.replace('_', ' '), path: lfwPhoto(who, i) }))));
      await source.clusters.enroll([testImage('group.jpg'), lfwPhoto('Britney_Spears', 1)]);
      await exportTo(source, join(dir, 'one.jsonl'));
      await middle.importGallery(join(dir, 'one.jsonl'));
      await exportTo(middle, join(dir, 'two.jsonl'));
      await back.importGallery(join(dir, 'two.jsonl'));
      const expected = await answers(source);
      assert.equal(await answers(middle), expected);
      assert.equal(await answers(back), expected);
      assert.equal(await galleryDigest(middle), await galleryDigest(source));
      assert.equal(await galleryDigest(back), await galleryDigest(source));
    } finally {
      await Promise.all([source.close(), middle.close(), back.close()]);
    }
  });
});
