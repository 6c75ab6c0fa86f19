import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { FacedbError, type ErrorCode } from '../errors/errors.js';
import { decodeImage, readImageFile } from './decode.js';
import { sha256Hex } from './hash.js';
import type { DecodedImage } from './image.js';

const TEST_IMAGES = new URL('../../../shared/data/test-images/', import.meta.url).pathname;
const LFW = new URL('../../../shared/data/lfw-subset/', import.meta.url).pathname;
const limits = { maxPixels: 50_000_000, maxFileBytes: 32 * 1024 * 1024 };

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FacedbError, `expected a FacedbError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

function assertRgb(image: DecodedImage, width: number, height: number): void {
  assert.equal(image.width, width);
  assert.equal(image.height, height);
  assert.equal(image.data.length, width * height * 3);
}

/** Mean absolute difference per channel value, for lossy round trips. */
function meanDifference(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return sum / a.length;
}

/** A valid PNG whose IHDR declares another size: a decompression bomb needs no more than a header. */
async function pngDeclaring(width: number, height: number): Promise<Buffer> {
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toBuffer();
  // Signature (8) + IHDR length (4) + "IHDR" (4), then width and height; the CRC covers type and data.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

void describe('decodeImage', () => {
  let lfwPhoto: Buffer;
  let reference: DecodedImage;
  let tmp: string;

  before(async () => {
    lfwPhoto = await readFile(join(LFW, 'Bono/Bono_0001.jpg'));
    reference = await decodeImage(lfwPhoto, limits);
    tmp = await mkdtemp(join(tmpdir(), 'facedb-decode-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  void it('decodes every prototype test image by content', async () => {
    const files = (await readdir(TEST_IMAGES)).sort();
    assert.ok(files.length >= 9);
    for (const file of files) {
      const { bytes, image } = await readImageFile(join(TEST_IMAGES, file), limits);
      assert.ok(bytes.length > 0);
      assert.equal(image.format, 'jpeg', `${file} is a JPEG whatever its name`);
      assertRgb(image, image.width, image.height);
      assert.ok(image.width > 0 && image.height > 0);
    }
  });

  void it('decodes a 250x250 LFW JPEG', () => {
    assert.equal(reference.format, 'jpeg');
    assertRgb(reference, 250, 250);
  });

  const conversions: Array<[string, (s: Sharp) => Sharp, number]> = [
    ['png', (s) => s.png(), 0],
    ['webp', (s) => s.webp({ quality: 95 }), 8],
    ['gif', (s) => s.gif(), 12],
    ['tiff', (s) => s.tiff({ compression: 'lzw' }), 0],
    ['avif', (s) => s.avif({ quality: 80 }), 8],
  ];
  for (const [format, convert, tolerance] of conversions) {
    void it(`decodes ${format} made from an LFW photo`, async () => {
      const raw = sharp(reference.data, { raw: { width: 250, height: 250, channels: 3 } });
      const bytes = await convert(raw).toBuffer();
      const image = await decodeImage(bytes, limits);
      assert.equal(image.format, format);
      assertRgb(image, 250, 250);
      assert.ok(meanDifference(image.data, reference.data) <= tolerance, `${format} pixels drifted`);
    });
  }

  void it('decodes only the first frame of an animated GIF', async () => {
    const frame = (colour: string) =>
      sharp({ create: { width: 40, height: 30, channels: 3, background: colour } }).png().toBuffer();
    const gif = await sharp([await frame('#ff0000'), await frame('#0000ff')], { join: { animated: true } })
      .gif()
      .toBuffer();
    assert.equal((await sharp(gif).metadata()).pages, 2);
    const image = await decodeImage(gif, limits);
    assertRgb(image, 40, 30);
    assert.ok((image.data[0] ?? 0) > 200 && (image.data[2] ?? 255) < 50, 'first frame is red');
  });

  void it('applies EXIF orientation', async () => {
    const upright = await readFile(join(TEST_IMAGES, 'aaron_eckhart.jpg'));
    const { width, height } = await decodeImage(upright, limits);
    assert.notEqual(width, height);
    const rotated = await sharp(upright).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    assert.equal((await sharp(rotated).metadata()).orientation, 6);
    const image = await decodeImage(rotated, limits);
    assertRgb(image, height, width);
  });

  void it('turns grayscale into 3-channel RGB', async () => {
    const gray = await sharp(lfwPhoto).toColourspace('b-w').png().toBuffer();
    assert.equal((await sharp(gray).metadata()).channels, 1);
    const image = await decodeImage(gray, limits);
    assertRgb(image, 250, 250);
    for (let i = 0; i < image.data.length; i += 3 * 97) {
      assert.equal(image.data[i], image.data[i + 1]);
      assert.equal(image.data[i], image.data[i + 2]);
    }
  });

  void it('turns CMYK into sRGB', async () => {
    const cmyk = await sharp(lfwPhoto).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    const image = await decodeImage(cmyk, limits);
    assertRgb(image, 250, 250);
    assert.ok(meanDifference(image.data, reference.data) < 20, 'colours survive the CMYK round trip');
  });

  void it('turns 16-bit RGBA into 8-bit RGB, flattening transparency onto white', async () => {
    const transparent = await sharp(lfwPhoto).ensureAlpha(0).toColourspace('rgb16').png().toBuffer();
    const meta = await sharp(transparent).metadata();
    assert.equal(meta.depth, 'ushort');
    assert.equal(meta.hasAlpha, true);
    const image = await decodeImage(transparent, limits);
    assertRgb(image, 250, 250);
    assert.ok(image.data.every((value) => value === 255));

    const opaque = await sharp(lfwPhoto).ensureAlpha(1).toColourspace('rgb16').png().toBuffer();
    assert.ok(meanDifference((await decodeImage(opaque, limits)).data, reference.data) < 1);
  });

  void it('refuses empty input', async () => {
    await rejectsWith(decodeImage(new Uint8Array(0), limits), 'invalid_image', /empty/);
  });

  void it('refuses a truncated JPEG', async () => {
    await rejectsWith(decodeImage(lfwPhoto.subarray(0, lfwPhoto.length >> 1), limits), 'invalid_image', /jpeg/);
  });

  void it('refuses a PNG whose data is corrupt', async () => {
    const png = await sharp(lfwPhoto).png().toBuffer();
    const corrupt = Buffer.concat([png.subarray(0, 64), Buffer.alloc(png.length - 64, 0x55)]);
    await rejectsWith(decodeImage(corrupt, limits), 'invalid_image');
  });

  void it('refuses a text file named .jpg, naming the path', async () => {
    const path = join(tmp, 'notes.jpg');
    await writeFile(path, 'these are not the pixels you are looking for\n');
    await rejectsWith(readImageFile(path, limits), 'invalid_image', /notes\.jpg: not an image/);
  });

  void it('refuses SVG as an unsupported media type', async () => {
    const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    await rejectsWith(decodeImage(svg, limits), 'unsupported_media_type', /SVG/);
  });

  void it('refuses a 30000x30000 PNG from its header, before decoding', async () => {
    const bomb = await pngDeclaring(30_000, 30_000);
    assert.deepEqual(
      await sharp(bomb, { limitInputPixels: false }).metadata().then((m) => [m.width, m.height]),
      [30_000, 30_000],
    );
    const started = performance.now();
    await rejectsWith(decodeImage(bomb, limits), 'image_too_large', /30000×30000/);
    assert.ok(performance.now() - started < 1000, 'refused without decoding 900 megapixels');
  });

  void it('refuses a real photo over a small pixel limit', async () => {
    await rejectsWith(decodeImage(lfwPhoto, { ...limits, maxPixels: 250 * 249 }), 'image_too_large');
  });

  void it('refuses bytes and files over maxFileBytes', async () => {
    const small = { ...limits, maxFileBytes: 1000 };
    await rejectsWith(decodeImage(lfwPhoto, small), 'image_too_large', /bytes/);
    await rejectsWith(readImageFile(join(LFW, 'Bono/Bono_0001.jpg'), small), 'image_too_large', /Bono_0001/);
  });

  void it('shrinks a photo over maxSide while decoding, keeping its shape and remembering its own size', async () => {
    const large = await sharp(lfwPhoto).resize(4000, 3000, { fit: 'fill' }).png({ compressionLevel: 1 }).toBuffer();
    const shrunk = await decodeImage(large, { ...limits, maxSide: 1000 });
    assertRgb(shrunk, 1000, 750);
    assert.deepEqual(shrunk.original, { width: 4000, height: 3000 });
    assert.equal(shrunk.format, 'png');
    // Same pixels as decoding in full and shrinking afterwards (give or take the resampling).
    const full = await decodeImage(large, limits);
    assert.equal(full.original, undefined);
    const after = await sharp(full.data, { raw: { width: 4000, height: 3000, channels: 3 } }).resize(1000, 750).raw().toBuffer();
    assert.ok(meanDifference(shrunk.data, after) < 2);
    // Photos within the limit are decoded as they are.
    const small = await decodeImage(lfwPhoto, { ...limits, maxSide: 250 });
    assertRgb(small, 250, 250);
    assert.equal(small.original, undefined);
  });

  void it('shrinks by the oriented size: a portrait stored turned keeps its long side within maxSide', async () => {
    const landscape = await sharp(lfwPhoto).resize(1200, 800, { fit: 'fill' }).jpeg().toBuffer();
    const turned = await sharp(landscape).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const image = await decodeImage(turned, { ...limits, maxSide: 600 });
    assertRgb(image, 400, 600);
    assert.deepEqual(image.original, { width: 800, height: 1200 });
  });

  void it('reports a missing path as not_found and a directory as invalid_input', async () => {
    await rejectsWith(readImageFile(join(tmp, 'missing.jpg'), limits), 'not_found', /missing\.jpg/);
    await rejectsWith(readImageFile(tmp, limits), 'invalid_input', /directory/);
  });
});

void describe('sha256Hex', () => {
  void it('hashes bytes to lowercase hex', () => {
    assert.equal(
      sha256Hex(new TextEncoder().encode('abc')),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});
