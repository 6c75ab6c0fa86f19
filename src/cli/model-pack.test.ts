import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { copyLfwPeople, lfwPhoto, tempDir } from '../../test/fixtures.js';
import { facedb } from '../../test/cli-process.js';
import { PACK_MANIFEST } from '../engine/onnx/pack.js';
import { modelDirectory } from '../engine/onnx/runtime.js';
import { exitCodeFor } from '../errors/exit-codes.js';

/** The built CLI with a model pack: the built-in recogniser's own ONNX file under a manifest of its own. */
describe('facedb --model-pack (the built CLI)', () => {
  let pack: string;
  let db: string;
  const env = { FACEDB_WORKERS: '1' };

  before(async () => {
    const root = await tempDir('facedb-cli-pack-');
    pack = path.join(root, 'pack');
    await mkdir(pack);
    const recognition = { file: path.join(modelDirectory(), 'fr_feature.onnx'), input: 112, channels: 'BGR', mean: 127, std: 128, dimensions: 512 };
    await writeFile(path.join(pack, PACK_MANIFEST), JSON.stringify({ id: 'cli-pack', version: '2', recognition }));
    db = path.join(root, 'gallery.sqlite');
    const gallery = await copyLfwPeople((person) => person === 'Bono' || person === 'Aaron_Eckhart' || person === 'Brad_Pitt');
    const enroll = await facedb(['--model-pack', pack, 'enroll', gallery, '--db', db, '--quiet'], env);
    assert.equal(enroll.code, 0, enroll.stderr);
  });

  it('pins the gallery to the pack: opened without it, the message names --model-pack', async () => {
    const run = await facedb(['identify', lfwPhoto('Bono', 2), '--db', db], env);
    assert.equal(run.code, exitCodeFor('model_mismatch'));
    assert.match(run.stdout + run.stderr, /model pack cli-pack 2 \(pack:cli-pack@2\).*--model-pack <dir>/);
  });

  it('refuses to identify or verify with an uncalibrated pack, saying how to calibrate', async () => {
    const identify = await facedb(['--model-pack', pack, 'identify', lfwPhoto('Bono', 2), '--db', db], env);
    assert.equal(identify.code, exitCodeFor('invalid_input'), identify.stderr);
    assert.match(identify.stdout + identify.stderr, /has no calibration.*facedb evaluate <folder> --apply.*--threshold/);
    const verify = await facedb(['--model-pack', pack, 'verify', lfwPhoto('Bono', 1), lfwPhoto('Bono', 2)], { FACEDB_WORKERS: '1', FACEDB_DB: path.join(db, '..', 'unused.sqlite') });
    assert.equal(verify.code, exitCodeFor('invalid_input'), verify.stderr);
    assert.match(verify.stdout + verify.stderr, /has no calibration/);
  });

  it('identifies with an explicit threshold', async () => {
    const run = await facedb(['--model-pack', pack, 'identify', lfwPhoto('Bono', 2), '--db', db, '--threshold', '1.2', '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout.trim()) as { faces: Array<{ match: { person: string } | null }> };
    assert.equal(result.faces[0]?.match?.person, 'Bono');
  });

  it('refuses a pack whose manifest is broken before opening anything', async () => {
    const broken = path.join(pack, '..', 'broken');
    await mkdir(broken);
    await writeFile(path.join(broken, PACK_MANIFEST), JSON.stringify({ id: 'x', version: '1', recognition: { file: 'missing.onnx', input: 112, channels: 'BGR', mean: 127.5, std: 127.5, dimensions: 512 } }));
    const run = await facedb(['--model-pack', broken, 'people', '--db', db], env);
    assert.equal(run.code, exitCodeFor('invalid_input'));
    assert.match(run.stdout + run.stderr, /recognition\.file missing\.onnx does not exist/);
  });
});
