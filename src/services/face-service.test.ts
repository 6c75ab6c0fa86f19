import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyLfwPeople, lfwPhoto, tempDir, testImage, writeBadInputs, type BadInputs } from '../../test/fixtures.js';
import { FacedbError } from '../errors/errors.js';
import { openFacedb } from '../facedb.js';
import { scanLfwLayout } from '../image/scan.js';
import type { FaceService } from './face-service.js';

/** People enrolled for these tests: every "Bo…" and "Br…" folder of the shared LFW subset, plus Aaron Eckhart. */
const inTestGallery = (person: string): boolean => /^(Bo|Br)/.test(person) || person === 'Aaron_Eckhart';

async function expectCode(promise: Promise<unknown>, code: FacedbError['code']): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FacedbError, `expected a FacedbError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

describe('FaceService on real faces and a real SQLite file', () => {
  let service: FaceService;
  let galleryRoot: string;
  let bad: BadInputs;
  let enrolledFaces = 0;
  let galleryFile: string;

  before(async () => {
    galleryRoot = await copyLfwPeople(inTestGallery);
    bad = await writeBadInputs();
    galleryFile = join(await tempDir(), 'gallery.sqlite');
    service = await openFacedb({ db: galleryFile, workers: 2 });
  });
  after(async () => {
    await service.close();
  });

  it('enrolls an LFW-layout folder with one outcome per file', async () => {
    const items = await scanLfwLayout(galleryRoot);
    const seen: string[] = [];
    const summary = await service.enroll(items, { onOutcome: (outcome) => seen.push(outcome.path) });
    assert.equal(summary.outcomes.length, items.length);
    assert.deepEqual([...seen].sort(), items.map((i) => i.path).sort());
    assert.equal(summary.counts.failed, 0);
    assert.equal(summary.counts.unreadable, 0);
    enrolledFaces = summary.counts.enrolled + summary.counts.enrolled_largest_of_several;
    // Face-api's detector finds a face in ~97.6 % of LFW photos; a floor well above chance.
    assert.ok(enrolledFaces >= items.length * 0.95, `only ${enrolledFaces}/${items.length} enrolled`);
    assert.equal(await service.store.countFaces(), enrolledFaces);
    const bono = await service.findPerson('Bono');
    assert.equal(bono.faceCount, 3);
  });

  it('re-running skips every file already enrolled', async () => {
    const items = await scanLfwLayout(galleryRoot);
    const summary = await service.enroll(items);
    assert.equal(summary.counts.enrolled + summary.counts.enrolled_largest_of_several, 0);
    assert.equal(summary.counts.already_enrolled, enrolledFaces);
    assert.equal(await service.store.countFaces(), enrolledFaces);
  });

  for (const [file, person] of [
    ['Bono_0001.jpg', 'Bono'],
    ['Bono_0002.jpg', 'Bono'],
    ['Brad_Pitt_0001.jpg', 'Brad Pitt'],
    ['aaron_eckhart.jpg', 'Aaron Eckhart'],
  ] as const) {
    it(`identifies ${file} as ${person}`, async () => {
      const result = await service.identify({ path: testImage(file) });
      assert.ok(result.faces.length >= 1);
      const [face] = result.faces;
      assert.equal(face?.match?.person, person);
      assert.ok(face.match.distance <= result.threshold);
      assert.equal(face.candidates[0]?.person, person);
      const total = Object.values(face.emotion.scores).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - 100) < 1e-6);
      assert.ok(face.age > 10 && face.age < 90);
    });
  }

  it('answers unknown for Ezra Miller, who is not enrolled', async () => {
    const result = await service.identify({ path: testImage('Ezra_miller.jpg') });
    assert.ok(result.faces.length >= 1);
    for (const face of result.faces) {
      assert.equal(face.match, null);
      assert.ok((face.candidates[0]?.distance ?? Infinity) > result.threshold);
    }
  });

  it('answers unknown (or no face) for the computer-generated face', async () => {
    const result = await service.identify({ path: testImage('ai.jpg') });
    for (const face of result.faces) assert.equal(face.match, null);
  });

  it('finds every face of the group selfie, each unknown', async () => {
    const result = await service.identify({ path: testImage('group.jpg') });
    assert.ok(result.faces.length >= 6, `found ${result.faces.length} faces`);
    for (const face of result.faces) {
      assert.equal(face.match, null);
      assert.ok(face.box.x >= 0 && face.box.y >= 0);
      assert.ok(face.box.x + face.box.width <= result.image.width + 1);
    }
  });

  it('finds no face in the blank image', async () => {
    const result = await service.identify({ path: testImage('Blank_image.jpg') });
    assert.equal(result.faces.length, 0);
  });

  it('decodes alien.png by content (it is a JPEG) and matches nobody', async () => {
    const result = await service.identify({ path: testImage('alien.png') });
    assert.equal(result.image.format, 'jpeg');
    for (const face of result.faces) assert.equal(face.match, null);
  });

  it('verifies two photos of Bono as the same person and Bono vs Brad Pitt as different', async () => {
    const same = await service.verify({ path: lfwPhoto('Bono', 1) }, { path: lfwPhoto('Bono', 3) });
    assert.equal(same.verified, true);
    const different = await service.verify({ path: lfwPhoto('Bono', 1) }, { path: lfwPhoto('Brad_Pitt', 1) });
    assert.equal(different.verified, false);
    assert.ok(different.distance > same.distance);
  });

  it('refuses verify with a faceless photo as no_face', async () => {
    await expectCode(service.verify({ path: lfwPhoto('Bono', 1) }, { path: testImage('Blank_image.jpg') }), 'no_face');
  });

  it('represents every face with a 128-D embedding and analyses without the gallery', async () => {
    const represented = await service.represent({ path: testImage('group.jpg') });
    assert.ok(represented.faces.length >= 6);
    for (const face of represented.faces) assert.equal(face.embedding.length, 128);
    const analyzed = await service.analyze({ path: testImage('group.jpg') });
    assert.equal(analyzed.faces.length, represented.faces.length);
  });

  describe('bad input gets a typed error and leaves the gallery unchanged', () => {
    const cases: Array<[string, (b: BadInputs) => string, FacedbError['code']]> = [
      ['an empty file', (b) => b.empty, 'invalid_image'],
      ['a truncated JPEG', (b) => b.truncatedJpeg, 'invalid_image'],
      ['a text file named .jpg', (b) => b.textNamedJpg, 'invalid_image'],
      ['a 30000×30000 PNG header', (b) => b.bombPng, 'image_too_large'],
      ['a missing path', (b) => b.missing, 'not_found'],
    ];
    for (const [what, file, code] of cases) {
      it(`identify: ${what} → ${code}`, async () => {
        await expectCode(service.identify({ path: file(bad) }), code);
      });
      it(`enroll: ${what} → unreadable outcome, nothing stored`, async () => {
        const before = await service.listPeople({ limit: 10_000, offset: 0 });
        const summary = await service.enroll([{ person: 'Bad Input', path: file(bad) }]);
        assert.equal(summary.outcomes[0]?.status, 'unreadable');
        assert.match(summary.outcomes[0]?.message ?? '', /\w/);
        assert.equal(await service.store.countFaces(), enrolledFaces);
        assert.deepEqual(await service.listPeople({ limit: 10_000, offset: 0 }), before);
      });
    }
    it('a directory with no images → invalid_input', async () => {
      await expectCode(scanLfwLayout(bad.emptyDir), 'invalid_input');
    });
  });

  it('removes a person from the store and from the search index at once', async () => {
    const { facesRemoved } = await service.removePerson('Bono');
    assert.equal(facesRemoved, 3);
    assert.equal(await service.store.countFaces(), enrolledFaces - 3);
    const result = await service.identify({ path: testImage('Bono_0001.jpg') });
    assert.notEqual(result.faces[0]?.match?.person, 'Bono');
    assert.ok(result.faces[0]?.candidates.every((c) => c.person !== 'Bono'));
    await expectCode(service.removePerson('Bono'), 'not_found');
  });

  it('sees what another process enrolls into and removes from the same gallery file, without restarting', async () => {
    // A second service on the same file stands for `facedb enroll` run while a server holds the gallery open.
    const other = await openFacedb({ db: galleryFile, workers: 1 });
    try {
      const bono = (await scanLfwLayout(galleryRoot)).filter((item) => item.person === 'Bono');
      assert.equal((await other.enroll(bono)).counts.enrolled, 3);
      const seen = await service.identify({ path: testImage('Bono_0001.jpg') });
      assert.equal(seen.faces[0]?.match?.person, 'Bono');

      await other.removePerson('Bono');
      const gone = await service.identify({ path: testImage('Bono_0001.jpg') });
      assert.ok(gone.faces[0]?.candidates.every((c) => c.person !== 'Bono'));
    } finally {
      await other.close();
    }
  });
});

describe('an empty gallery', () => {
  it('answers unknown for every face, then identifies after the first enrollment', async () => {
    const service = await openFacedb({ db: join(await tempDir(), 'empty.sqlite'), workers: 1 });
    try {
      const before = await service.identify({ path: testImage('group.jpg') });
      assert.ok(before.faces.length >= 6);
      for (const face of before.faces) {
        assert.equal(face.match, null);
        assert.deepEqual(face.candidates, []);
      }
      for (const photo of [1, 2]) {
        const outcome = await service.enrollImage('Adam Sandler', { path: lfwPhoto('Adam_Sandler', photo) });
        assert.ok(outcome.faceId !== undefined, outcome.status);
      }
      const after = await service.identify({ path: lfwPhoto('Adam_Sandler', 3) });
      assert.equal(after.faces[0]?.match?.person, 'Adam Sandler');
    } finally {
      await service.close();
    }
  });
});

describe('a gallery pinned to another model', () => {
  it('refuses to enroll or identify with model_mismatch', async () => {
    const service = await openFacedb({ db: join(await tempDir(), 'other.sqlite'), workers: 1 });
    try {
      await service.store.ensureModel({
        id: 'some-other-model',
        version: '7',
        dimensions: 512,
        metric: 'euclidean',
        defaultThreshold: 1,
      });
      await expectCode(service.enroll([{ person: 'Bono', path: lfwPhoto('Bono', 1) }]), 'model_mismatch');
      await expectCode(service.identify({ path: lfwPhoto('Bono', 1) }), 'model_mismatch');
      assert.equal(await service.store.countFaces(), 0);
    } finally {
      await service.close();
    }
  });
});
