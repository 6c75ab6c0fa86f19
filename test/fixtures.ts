/** Paths to the shared real-face data and generators of bad input, for tests and benchmarks. */
import { copyFile, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED_DATA = resolve(REPO_ROOT, '../shared/data');
export const LFW_SUBSET = join(SHARED_DATA, 'lfw-subset');
export const TEST_IMAGES = join(SHARED_DATA, 'test-images');
export const EMOTION_FER = join(SHARED_DATA, 'emotion-fer');
export const CLI = join(REPO_ROOT, 'dist/cli/main.js');

export function testImage(name: string): string {
  return join(TEST_IMAGES, name);
}

export function lfwPhoto(person: string, index = 1): string {
  return join(LFW_SUBSET, person, `${person}_${String(index).padStart(4, '0')}.jpg`);
}

export async function tempDir(prefix = 'facedb-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Copies the LFW folders of the people whose folder name passes `keep` into a new LFW-layout root. */
export async function copyLfwPeople(keep: (person: string) => boolean, into?: string): Promise<string> {
  const root = into ?? join(await tempDir('facedb-gallery-'), 'gallery');
  for (const person of (await readdir(LFW_SUBSET)).filter(keep).sort()) {
    await mkdir(join(root, person), { recursive: true });
    for (const file of await readdir(join(LFW_SUBSET, person))) {
      await copyFile(join(LFW_SUBSET, person, file), join(root, person, file));
    }
  }
  return root;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** A valid PNG that declares width×height pixels but carries almost no data: a decompression bomb's header. */
export function pngDeclaring(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.alloc(width * 3 + 1))), // one row only
    pngChunk('IEND', new Uint8Array()),
  ]);
}

export interface BadInputs {
  dir: string;
  empty: string;
  truncatedJpeg: string;
  textNamedJpg: string;
  bombPng: string;
  missing: string;
  emptyDir: string;
}

/** Writes one file per kind of bad input the CLI, services and server must refuse cleanly. */
export async function writeBadInputs(): Promise<BadInputs> {
  const dir = await tempDir('facedb-bad-');
  const jpeg = await readFile(testImage('Bono_0002.jpg'));
  const files: BadInputs = {
    dir,
    empty: join(dir, 'empty.jpg'),
    truncatedJpeg: join(dir, 'truncated.jpg'),
    textNamedJpg: join(dir, 'notes.jpg'),
    bombPng: join(dir, 'bomb.png'),
    missing: join(dir, 'does-not-exist.jpg'),
    emptyDir: join(dir, 'no-images'),
  };
  await writeFile(files.empty, new Uint8Array());
  await writeFile(files.truncatedJpeg, jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  await writeFile(files.textNamedJpg, 'this is a text file, not a photo\n');
  await writeFile(files.bombPng, pngDeclaring(30000, 30000));
  await mkdir(files.emptyDir);
  return files;
}

/** The product's seeded PRNG (src/core/random.ts), for generated test data and benchmark inputs. */
export { seededRandom } from '../src/core/random.js';
