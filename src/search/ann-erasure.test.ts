import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fakeEngine } from '../../test/fake-engine.js';
import { lfwPhoto, tempDir } from '../../test/fixtures.js';
import { openFacedb } from '../facedb.js';

/*
 * Erasure with the ANN index: usearch only marks a removed node, so a graph saved after a removal would still hold
 * the erased face's embedding. After a removal, no file beside the gallery may hold those bytes, in the float32 the
 * gallery gave or the half precision the graph stores (the default; DEFAULT_ANN_OPTIONS).
 */

const PHOTOS = ['Bono', 'Boris_Becker', 'Boris_Yeltsin', 'Aaron_Peirsol', 'Aaron_Sorkin', 'Adam_Sandler'].flatMap((person) => [1, 2].map((n) => lfwPhoto(person, n)));

/** IEEE 754 half precision of a float32 value, rounded to nearest even (as usearch converts). */
function toHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  let mantissa = bits & 0x7fffff;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - exponent;
    const half = mantissa >> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const middle = 1 << (shift - 1);
    return sign | (half + (rest > middle || (rest === middle && half & 1) ? 1 : 0));
  }
  if (exponent >= 31) return sign | 0x7c00;
  const half = (exponent << 10) | (mantissa >> 13);
  const rest = mantissa & 0x1fff;
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

/** The embedding's bytes as the index may hold them: float32 and float16, little-endian, first 16 components. */
function forms(embedding: Float32Array): Buffer[] {
  const head = embedding.subarray(0, 16);
  const half = Buffer.alloc(head.length * 2);
  head.forEach((value, i) => half.writeUInt16LE(toHalf(value), i * 2));
  return [Buffer.from(head.buffer, head.byteOffset, head.byteLength), half];
}

async function indexFilesBeside(db: string): Promise<Buffer[]> {
  const names = (await readdir(dirname(db))).filter((name) => name.includes('.ann-'));
  return Promise.all(names.map((name) => readFile(join(dirname(db), name))));
}

describe('ANN index files after a removal', () => {
  it('hold no byte form of a removed face’s embedding, whether the index was loaded or not', async () => {
    const db = join(await tempDir(), 'gallery.sqlite');
    const open = async () => openFacedb({ db, workers: 1, index: 'ann', engine: await fakeEngine() });
    let service = await open();
    const summary = await service.enroll(PHOTOS.map((path, i) => ({ person: `person ${i >> 1}`, path })));
    assert.equal(summary.counts.enrolled, PHOTOS.length, JSON.stringify(summary.counts));
    await service.identify({ path: PHOTOS[0]! }); // loads (builds) the ANN index
    const snapshot = await service.store.loadEmbeddings();
    const embeddingOf = (faceId: number): Float32Array => {
      const row = snapshot.faceIds.indexOf(faceId);
      return snapshot.vectors.slice(row * snapshot.dimensions, (row + 1) * snapshot.dimensions);
    };
    const faceIdsOf = async (name: string) => (await service.listFaces((await service.findPerson(name)).id, { limit: 10, offset: 0 })).items.map((f) => f.id);
    const loadedRemoval = await faceIdsOf('person 0');
    const kept = await faceIdsOf('person 1');
    await service.close();

    // The saved files hold every face before any removal (the check below can see them).
    const before = await indexFilesBeside(db);
    assert.ok(before.length >= 3);
    const held = (files: Buffer[], faceId: number): boolean => forms(embeddingOf(faceId)).some((form) => files.some((file) => file.includes(form)));
    assert.ok(held(before, loadedRemoval[0]!), 'the saved graph holds the face before its removal');

    // Removed while the index is loaded (a server), then saved at close.
    service = await open();
    await service.identify({ path: PHOTOS[2]! });
    await service.removePerson('person 0');
    const [faceGone] = await faceIdsOf('person 1');
    await service.removeFace(faceGone!);
    await service.close();
    let files = await indexFilesBeside(db);
    assert.ok(files.length >= 3, 'the index is saved again');
    for (const faceId of [...loadedRemoval, faceGone!]) {
      for (const form of forms(embeddingOf(faceId))) assert.ok(!files.some((file) => file.includes(form)), `face ${faceId}'s embedding is still in the index files`);
    }
    const [faceKept] = kept.filter((id) => id !== faceGone);
    assert.ok(held(files, faceKept!), 'a kept face is still saved');

    // Removed by a process that never loads the index (the CLI's `remove`): the saved files go at once.
    service = await open();
    const unloadedRemoval = await faceIdsOf('person 2');
    await service.removePerson('person 2');
    files = await indexFilesBeside(db);
    for (const faceId of unloadedRemoval) {
      for (const form of forms(embeddingOf(faceId))) assert.ok(!files.some((file) => file.includes(form)));
    }
    assert.equal(files.length, 0, 'the saved index is deleted rather than left holding the removed faces');
    const result = await service.identify({ path: PHOTOS[4]! });
    assert.ok(result.faces[0]?.candidates.every((c) => c.person !== 'person 2'));
    await service.close();
  });
});
