import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FacedbError, type ErrorCode } from '../errors/errors.js';
import { expandImageArgs, personNameFromFolder, scanLfwLayout } from './scan.js';

const LFW = new URL('../../../shared/data/lfw-subset/', import.meta.url).pathname;

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FacedbError, `expected a FacedbError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

void describe('scanLfwLayout', () => {
  let tmp: string;
  let gallery: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'facedb-scan-'));
    gallery = join(tmp, 'gallery');
    // Created out of order on purpose: the result must be sorted anyway.
    for (const [person, files] of [
      ['Brad_Pitt', ['Brad_Pitt_0001.jpg']],
      ['Bono', ['Bono_0003.jpg', 'Bono_0001.jpg', 'Bono_0002.jpg']],
      ['Aaron_Eckhart', ['Aaron_Eckhart_0001.jpg']],
    ] as const) {
      await mkdir(join(gallery, person), { recursive: true });
      for (const file of files) await copyFile(join(LFW, person, file), join(gallery, person, file));
    }
    // A JPEG named .png and a file without an extension are still candidates; decoding decides.
    await copyFile(join(LFW, 'Bono/Bono_0001.jpg'), join(gallery, 'Bono', 'Bono_extra.png'));
    await copyFile(join(LFW, 'Bono/Bono_0001.jpg'), join(gallery, 'Bono', 'README'));
    await writeFile(join(gallery, 'Bono', '.DS_Store'), 'hidden');
    await mkdir(join(gallery, 'Bono', 'nested'));
    await mkdir(join(gallery, '.cache', 'x'), { recursive: true });
    await writeFile(join(gallery, '.cache', 'x.jpg'), 'hidden folder');
    await writeFile(join(gallery, 'loose.jpg'), 'not in a person folder');
    await mkdir(join(gallery, 'Empty_Person'));
    await symlink(join(gallery, 'Brad_Pitt'), join(gallery, 'Brad_Pitt_Link'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  void it('lists person folders and their files, sorted, skipping hidden entries', async () => {
    const images = await scanLfwLayout(gallery);
    assert.deepEqual(
      images.map(({ person, path }) => [person, path.slice(gallery.length + 1)]),
      [
        ['Aaron Eckhart', 'Aaron_Eckhart/Aaron_Eckhart_0001.jpg'],
        ['Bono', 'Bono/Bono_0001.jpg'],
        ['Bono', 'Bono/Bono_0002.jpg'],
        ['Bono', 'Bono/Bono_0003.jpg'],
        ['Bono', 'Bono/Bono_extra.png'],
        ['Bono', 'Bono/README'],
        ['Brad Pitt', 'Brad_Pitt/Brad_Pitt_0001.jpg'],
        ['Brad Pitt Link', 'Brad_Pitt_Link/Brad_Pitt_0001.jpg'],
      ],
    );
  });

  void it('turns folder names into display names', () => {
    assert.equal(personNameFromFolder('Brad_Pitt'), 'Brad Pitt');
    assert.equal(personNameFromFolder('Abid_Hamid_Mahmud_Al-Tikriti'), 'Abid Hamid Mahmud Al-Tikriti');
    assert.equal(personNameFromFolder('_Madonna__'), 'Madonna');
    assert.equal(personNameFromFolder('___'), '___');
  });

  void it('reports a missing root as not_found', async () => {
    await rejectsWith(scanLfwLayout(join(tmp, 'nowhere')), 'not_found', /nowhere/);
  });

  void it('reports a root without images as invalid_input', async () => {
    const empty = join(tmp, 'empty');
    await mkdir(join(empty, 'Nobody'), { recursive: true });
    await rejectsWith(scanLfwLayout(empty), 'invalid_input', /no images found in/);
  });

  void it('reports a file given as the root as invalid_input', async () => {
    await rejectsWith(scanLfwLayout(join(gallery, 'loose.jpg')), 'invalid_input', /not a directory/);
  });
});

void describe('expandImageArgs', () => {
  let tmp: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'facedb-expand-'));
    await mkdir(join(tmp, 'probes', 'sub'), { recursive: true });
    await mkdir(join(tmp, 'empty'));
    for (const name of ['b.jpg', 'a.jpg', '.hidden.jpg']) await writeFile(join(tmp, 'probes', name), 'x');
    await writeFile(join(tmp, 'probes', 'sub', 'deep.jpg'), 'x');
    await writeFile(join(tmp, 'single.png'), 'x');
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  void it('keeps files and expands directories flat, in argument order', async () => {
    const files = await expandImageArgs([join(tmp, 'single.png'), join(tmp, 'probes')]);
    assert.deepEqual(files, [join(tmp, 'single.png'), join(tmp, 'probes', 'a.jpg'), join(tmp, 'probes', 'b.jpg')]);
  });

  void it('refuses missing paths, empty directories and no arguments', async () => {
    await rejectsWith(expandImageArgs([join(tmp, 'missing.jpg')]), 'not_found', /missing\.jpg/);
    await rejectsWith(expandImageArgs([join(tmp, 'empty')]), 'invalid_input', /no images found in/);
    await rejectsWith(expandImageArgs([]), 'invalid_input');
  });
});
