import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { EXIT_OK, exitCodeFor } from '../errors/exit-codes.js';
import type { EvaluationReport } from '../services/evaluation/types.js';
import type { GalleryCalibration } from '../store/calibration.js';
import { facedb } from '../../test/cli-process.js';
import { lfwPhoto, tempDir, testImage } from '../../test/fixtures.js';

const PEOPLE = ['Ariel_Sharon', 'Arnold_Schwarzenegger', 'Alejandro_Toledo', 'Andre_Agassi', 'Alvaro_Uribe', 'Bill_Clinton'];

/**
 * Six people with five photos each, Bill Gates with three, a singleton, and planted problems: Bill_Gates_0001 filed
 * under Andre Agassi (a mislabel), an identical copy of an Alvaro Uribe photo, a text file named .jpg (unreadable)
 * and a blank white image (no face).
 */
async function labelledFolder(): Promise<string> {
  const root = join(await tempDir('facedb-evaluate-'), 'photos');
  for (const person of PEOPLE) {
    await mkdir(join(root, person), { recursive: true });
    for (let i = 1; i <= 5; i++) await symlink(lfwPhoto(person, i), join(root, person, `${person}_000${i}.jpg`));
  }
  await mkdir(join(root, 'Bill_Gates'));
  for (let i = 2; i <= 4; i++) await symlink(lfwPhoto('Bill_Gates', i), join(root, 'Bill_Gates', `Bill_Gates_000${i}.jpg`));
  await symlink(lfwPhoto('Bill_Gates', 1), join(root, 'Andre_Agassi', 'Andre_Agassi_9001.jpg'));
  await copyFile(lfwPhoto('Alvaro_Uribe', 1), join(root, 'Alvaro_Uribe', 'Alvaro_Uribe_0099.jpg'));
  await mkdir(join(root, 'Amelie_Mauresmo'));
  await symlink(lfwPhoto('Amelie_Mauresmo', 1), join(root, 'Amelie_Mauresmo', 'Amelie_Mauresmo_0001.jpg'));
  await writeFile(join(root, 'Bill_Clinton', 'notes.jpg'), 'not a photo\n');
  await symlink(testImage('Blank_image.jpg'), join(root, 'Bill_Clinton', 'Blank_image.jpg'));
  return root;
}

describe('facedb evaluate', () => {
  let folder: string;
  let work: string;
  before(async () => {
    folder = await labelledFolder();
    work = await tempDir('facedb-evaluate-out-');
  });

  it('measures the folder, finds its planted problems, and writes a self-contained report', async () => {
    const html = join(work, 'report.html');
    const run = await facedb(['evaluate', folder, '--json', '--report', html], { FACEDB_DB: join(work, 'untouched.sqlite') });
    assert.equal(run.code, EXIT_OK, run.stderr);
    assert.doesNotMatch(run.stdout, /NaN/);
    const report = JSON.parse(run.stdout) as EvaluationReport;
    assert.equal(report.people.total, 8);
    assert.equal(report.photos.total, 38);
    assert.deepEqual(report.unreadable.map((p) => p.path.endsWith('notes.jpg')), [true]);
    assert.deepEqual(report.noFace.map((p) => p.path.endsWith('Blank_image.jpg')), [true]);
    assert.ok(
      report.duplicates.some((d) => d.kind === 'identical' && [d.a.path, d.b.path].every((p) => /Alvaro_Uribe_00(01|99)\.jpg$/.test(p))),
      JSON.stringify(report.duplicates),
    );
    const [mislabel] = report.mislabels;
    assert.ok(mislabel && mislabel.path.endsWith('Andre_Agassi_9001.jpg'), JSON.stringify(report.mislabels));
    assert.equal(mislabel.probably, 'Bill Gates');
    assert.ok(mislabel.nearest.distance < mislabel.nearestOwn.distance);
    assert.equal(report.identification.singletons.total, 1);
    assert.ok(report.identification.rank1.probes >= 30 && (report.identification.rank1.rate ?? 0) > 0.9);
    // 1e-2 is measurable on these ~600 impostor pairs; 1e-4 is not, and says how many pairs it needs.
    const [coarse, , fine] = report.verification.points;
    assert.equal(coarse?.far, 1e-2);
    assert.ok(coarse.enoughPairs && coarse.threshold !== null && coarse.frrInterval !== null);
    assert.equal(fine?.far, 1e-4);
    assert.equal(fine.threshold, null);
    assert.equal(fine.impostorPairsNeeded, 30000);

    const page = await readFile(html, 'utf8');
    assert.doesNotMatch(page, /https?:|src="\/\/|href="\/\/|url\(/i, 'no external URL');
    for (const id of ['summary', 'verification', 'identification', 'misidentified', 'mislabels', 'duplicates', 'spread', 'several-faces', 'no-face', 'unreadable']) {
      assert.match(page, new RegExp(`<section id="${id}"`), id);
    }
    assert.equal(page.match(/<svg /g)?.length, 3, 'ROC, DET and histograms');
    assert.match(page, /data:image\/jpeg;base64,/);
    assert.doesNotMatch(page.replace(/data:image\/jpeg;base64,[A-Za-z0-9+/=]+/g, ''), /NaN|undefined/);
    assert.match(page, /Andre_Agassi_9001\.jpg/);
    // No gallery was opened: evaluating alone leaves FACEDB_DB alone.
    await assert.rejects(readFile(join(work, 'untouched.sqlite')));
  });

  it('--apply stores the operating point in the gallery; identify uses it and says so; --reset goes back', async () => {
    const db = join(work, 'gallery.sqlite');
    const probe = lfwPhoto('Bill_Clinton', 6);
    const applied = await facedb(['evaluate', folder, '--apply', '--far', '1e-2', '--db', db, '--json']);
    assert.equal(applied.code, EXIT_OK, applied.stderr);
    const { applied: calibration, verification } = JSON.parse(applied.stdout) as EvaluationReport & { applied: GalleryCalibration };
    assert.equal(calibration.far, 1e-2);
    assert.equal(calibration.points.find((p) => p.far === 1e-2)?.threshold, verification.points.find((p) => p.far === 1e-2)?.threshold);

    const identify = async (): Promise<{ threshold: number; thresholdSource: string }> => {
      const run = await facedb(['identify', probe, '--db', db, '--json']);
      assert.equal(run.code, EXIT_OK, run.stderr);
      return JSON.parse(run.stdout) as { threshold: number; thresholdSource: string };
    };
    const calibrated = await identify();
    assert.equal(calibrated.thresholdSource, 'gallery');
    assert.equal(calibrated.threshold, calibration.points.find((p) => p.far === 1e-2)?.threshold);
    const text = await facedb(['verify', probe, lfwPhoto('Bill_Clinton', 7), '--db', db]);
    assert.match(text.stdout, /this gallery's calibration/);

    // Too few impostor pairs for 1e-4: refused, saying how many are needed; the stored calibration stays.
    const strict = await facedb(['evaluate', folder, '--apply', '--far', '1e-4', '--db', db]);
    assert.equal(strict.code, exitCodeFor('insufficient_data'), strict.stderr);
    assert.match(strict.stderr, /needs at least 30000 different-person pairs/);
    // Measured with another engine than the gallery's: refused before any photo is read.
    const other = await facedb(['--engine', 'faceapi', 'evaluate', folder, '--apply', '--far', '1e-2', '--db', db]);
    assert.equal(other.code, exitCodeFor('model_mismatch'), other.stderr);
    assert.equal((await identify()).thresholdSource, 'gallery');

    const reset = await facedb(['evaluate', '--reset', '--db', db]);
    assert.equal(reset.code, EXIT_OK, reset.stderr);
    assert.match(reset.stdout, /engine's calibration/);
    const back = await identify();
    assert.equal(back.thresholdSource, 'engine');
    assert.notEqual(back.threshold, calibrated.threshold);
  });

  describe('refuses what it cannot evaluate, with a clear message and exit code', () => {
    const cases: Array<[string, (root: string) => Promise<void>, number, RegExp]> = [
      ['an empty folder', () => Promise.resolve(), exitCodeFor('invalid_input'), /is empty/],
      ['photos not in LFW layout', async (root) => copyFile(lfwPhoto('Bono', 1), join(root, 'Bono_0001.jpg')), exitCodeFor('invalid_input'), /no person folders.*LFW layout/],
      [
        'fewer than two people',
        async (root) => {
          await mkdir(join(root, 'Bono'));
          for (const i of [1, 2]) await copyFile(lfwPhoto('Bono', i), join(root, 'Bono', `Bono_000${i}.jpg`));
        },
        exitCodeFor('insufficient_data'),
        /at least two people/,
      ],
      [
        'people with one photo each',
        async (root) => {
          for (const person of ['Bono', 'Bill_Gates']) {
            await mkdir(join(root, person));
            await copyFile(lfwPhoto(person, 1), join(root, person, `${person}_0001.jpg`));
          }
        },
        exitCodeFor('insufficient_data'),
        /one photo only/,
      ],
    ];
    for (const [name, make, code, message] of cases) {
      it(name, async () => {
        const root = await tempDir('facedb-evaluate-bad-');
        await make(root);
        const run = await facedb(['evaluate', root, '--json']);
        assert.equal(run.code, code, run.stderr);
        assert.match(run.stderr, message);
        assert.doesNotMatch(run.stderr + run.stdout, /NaN|at .*\.js:\d+/);
      });
    }
    assert.notEqual(exitCodeFor('insufficient_data'), exitCodeFor('invalid_input'));
  });
});
