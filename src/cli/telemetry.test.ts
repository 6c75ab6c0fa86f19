import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir, testImage } from '../../test/fixtures.js';
import { facedb } from '../../test/cli-process.js';

/** Collects every path below `dir` (the temporary home is small). */
async function everyPath(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.map((entry) => join(entry.parentPath, entry.name));
}

/**
 * ONNX Runtime 1.30 keeps a telemetry database (and a device id) under ~/.cache/Microsoft/DeveloperTools/.onnxruntime
 * in every process that creates an environment, unless ORT_DISABLE_TELEMETRY is set: facedb sets it.
 */
describe('ONNX Runtime telemetry (the built CLI, engine onnx)', () => {
  it('leaves nothing in the home folder after running the models', async () => {
    const home = await tempDir('facedb-home-');
    const run = await facedb(['analyze', testImage('Bono_0002.jpg')], { HOME: home, FACEDB_ENGINE: 'onnx', FACEDB_WORKERS: '1' });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual((await everyPath(home)).filter((path) => /onnxruntime|Microsoft/i.test(path)), []);
  });
});
