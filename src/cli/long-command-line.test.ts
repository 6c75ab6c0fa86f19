import assert from 'node:assert/strict';
import { mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LFW_SUBSET, tempDir } from '../../test/fixtures.js';
import { facedb } from '../../test/cli-process.js';
import { workerStackSizeMb } from '../threads/start-worker.js';

/**
 * ONNX Runtime's set-up in each inference worker recurses over the whole command line (see workerStackSizeMb):
 * on a worker with Node's default stack, ~14 KB of arguments killed `facedb represent` with SIGSEGV.
 */
describe('a long command line (the built CLI, engine onnx)', () => {
  let dir: string;
  let photos: string[];

  before(async () => {
    // 120 links to shared LFW photos in a folder with a long name: about 24 KB of absolute paths.
    dir = join(await tempDir('facedb-long-argv-'), `photos-with-a-long-folder-name-${'x'.repeat(160)}`);
    await mkdir(dir);
    const people = (await readdir(LFW_SUBSET)).sort().slice(0, 120);
    photos = await Promise.all(
      people.map(async (person, index) => {
        const link = join(dir, `photo-${String(index).padStart(3, '0')}.jpg`);
        await symlink(join(LFW_SUBSET, person, `${person}_0001.jpg`), link);
        return link;
      }),
    );
  });

  after(async () => {
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it('embeds every photo instead of crashing', async () => {
    const length = photos.reduce((sum, photo) => sum + photo.length + 1, 0);
    assert.ok(length > 20_000, `the arguments are ${length} bytes, more than the default worker stack held`);
    const run = await facedb(['represent', ...photos], { FACEDB_ENGINE: 'onnx', FACEDB_WORKERS: '1' });
    assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; faces: unknown[] });
    assert.deepEqual(lines.map((line) => line.file).sort(), [...photos].sort());
    assert.ok(lines.every((line) => line.faces.length >= 1));
  });

  it('sizes the worker stack by the command line (≈290 bytes of stack per byte were measured)', () => {
    assert.equal(workerStackSizeMb(0), 4);
    assert.ok(workerStackSizeMb(24_000) * 2 ** 20 >= 4 * 2 ** 20 + 24_000 * 292);
    assert.ok(workerStackSizeMb(2 * 2 ** 20) * 2 ** 20 >= 2 * 2 ** 20 * 292);
  });
});
