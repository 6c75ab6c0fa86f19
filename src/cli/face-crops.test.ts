import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EMOTION_FER, tempDir } from '../../test/fixtures.js';
import { facedb } from '../../test/cli-process.js';

/** `--no-detect` on the built CLI: a 48x48 FER crop in which the ONNX detector finds no face. */
describe('facedb --no-detect (the built CLI, engine onnx)', () => {
  const crop = join(EMOTION_FER, 'happy/PublicTest_11107518.jpg');
  const env = async () => ({ FACEDB_WORKERS: '1', FACEDB_ENGINE: 'onnx', FACEDB_DB: join(await tempDir(), 'unused.sqlite') });

  it('analyze finds no face with detection, and takes the whole crop as the face without', async () => {
    const detected = await facedb(['analyze', '--json', crop], await env());
    assert.deepEqual((JSON.parse(detected.stdout) as { faces: unknown[] }).faces, []);
    const whole = await facedb(['analyze', '--no-detect', '--json', crop], await env());
    assert.equal(whole.code, 0, whole.stderr);
    const [face] = (JSON.parse(whole.stdout) as { faces: Array<{ box: unknown; emotion: { dominant: string } }> }).faces;
    assert.deepEqual(face?.box, { x: 0, y: 0, width: 48, height: 48 });
    assert.equal(face?.emotion.dominant, 'happy');
  });

  it('represent and verify take it whole too', async () => {
    const represent = await facedb(['represent', '--no-detect', crop], await env());
    assert.equal(represent.code, 0, represent.stderr);
    assert.equal((JSON.parse(represent.stdout) as { faces: Array<{ embedding: number[] }> }).faces[0]?.embedding.length, 512);
    const verify = await facedb(['verify', '--no-detect', '--json', crop, crop], await env());
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal((JSON.parse(verify.stdout) as { verified: boolean }).verified, true);
  });
});
