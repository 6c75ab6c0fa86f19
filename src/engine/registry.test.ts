import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../test/fixtures.js';
import { isFacedbError } from '../errors/errors.js';
import { ENGINE_NAMES, engineByName, engineForModel, registerTestEngines } from './registry.js';

void describe('engine registry', () => {
  void it('offers only the product engines until the test engines are registered', async () => {
    assert.deepEqual(ENGINE_NAMES, ['onnx', 'faceapi']);
    assert.throws(() => engineByName('fake'), (error) => isFacedbError(error) && /unknown engine "fake": choose one of onnx, faceapi/.test(error.message));
    assert.equal(engineForModel({ id: 'fake', version: '1' }), undefined);
    await registerTestEngines();
    assert.equal(engineByName('fake').name, 'fake');
    assert.equal(engineForModel(engineByName('fake').model)?.name, 'fake');
    assert.deepEqual(ENGINE_NAMES, ['onnx', 'faceapi'], 'help texts still list the product engines only');
  });

  void it('leaves the test engine out of the product build', () => {
    const listed = spawnSync(process.execPath, [`${REPO_ROOT}/node_modules/typescript/bin/tsc`, '-p', 'tsconfig.json', '--listFilesOnly'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    const ours = listed.stdout.split('\n').filter((line) => line.startsWith(`${REPO_ROOT}/src/`));
    assert.ok(ours.some((file) => file.endsWith('src/engine/registry.ts')));
    assert.deepEqual(ours.filter((file) => file.includes('/src/engine/fake/')), []);
  });
});
