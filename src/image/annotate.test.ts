import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { annotateImage, escapeXml } from './annotate.js';
import { decodeImage } from './decode.js';
import type { DecodedImage, RgbImage } from './image.js';

const TEST_IMAGES = new URL('../../../shared/data/test-images/', import.meta.url).pathname;
const limits = { maxPixels: 50_000_000, maxFileBytes: 32 * 1024 * 1024 };

function pixel(image: RgbImage, x: number, y: number): [number, number, number] {
  const i = (y * image.width + x) * 3;
  return [image.data[i] ?? 0, image.data[i + 1] ?? 0, image.data[i + 2] ?? 0];
}

function regionDifference(a: RgbImage, b: RgbImage, x0: number, y0: number, x1: number, y1: number): number {
  let sum = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const p = pixel(a, x, y);
      const q = pixel(b, x, y);
      sum += Math.abs(p[0] - q[0]) + Math.abs(p[1] - q[1]) + Math.abs(p[2] - q[2]);
    }
  }
  return sum / ((x1 - x0) * (y1 - y0) * 3);
}

void describe('annotateImage', () => {
  let photo: DecodedImage;

  before(async () => {
    photo = await decodeImage(await readFile(`${TEST_IMAGES}group.jpg`), limits);
  });

  void it('draws boxes and labels into a JPEG of the same size', async () => {
    const known = { x: 40, y: 60, width: 120, height: 140 };
    const unknown = { x: photo.width - 150, y: photo.height - 160, width: 120, height: 140 };
    const jpeg = await annotateImage(photo, [
      { box: known, label: 'Brad Pitt', sublabel: 'happy', known: true },
      { box: unknown, label: 'unknown <&> "\'\u0001', known: false },
    ]);
    const out = await decodeImage(jpeg, limits);
    assert.equal(out.format, 'jpeg');
    assert.equal(out.width, photo.width);
    assert.equal(out.height, photo.height);

    // The left edge of the known box is green, of the unknown box red-orange.
    const [r, g, b] = pixel(out, known.x, known.y + known.height / 2);
    assert.ok(g > 150 && r < 100 && b < 120, `known box edge is green, got ${r},${g},${b}`);
    const [ur, ug, ub] = pixel(out, unknown.x, unknown.y + unknown.height / 2);
    assert.ok(ur > 180 && ug < 120 && ub < 100, `unknown box edge is red, got ${ur},${ug},${ub}`);

    const edge = regionDifference(out, photo, known.x - 2, known.y, known.x + 3, known.y + known.height);
    assert.ok(edge > 40, 'the box outline changes the pixels');
    // Inside the box, away from the outline, only JPEG re-encoding noise.
    const inside = regionDifference(out, photo, known.x + 20, known.y + 40, known.x + 100, known.y + 120);
    assert.ok(inside < 6, `inside the box is untouched, got ${inside}`);
  });

  void it('keeps labels and boxes inside the image when a face touches the border', async () => {
    const small: RgbImage = { width: 60, height: 40, data: new Uint8Array(60 * 40 * 3).fill(128) };
    const jpeg = await annotateImage(small, [
      { box: { x: -10, y: -5, width: 50, height: 60 }, label: 'A very long name that cannot fit', known: true },
    ]);
    const out = await decodeImage(jpeg, limits);
    assert.equal(out.width, 60);
    assert.equal(out.height, 40);
    const [r, g] = pixel(out, 1, 20);
    assert.ok(g > 150 && r < 100, 'clamped outline is visible at the left border');
  });

  void it('returns the photo re-encoded when there are no faces', async () => {
    const out = await decodeImage(await annotateImage(photo, []), limits);
    assert.ok(regionDifference(out, photo, 0, 0, photo.width, photo.height) < 4);
  });
});

void describe('escapeXml', () => {
  void it('escapes markup and drops characters XML cannot carry', () => {
    assert.equal(escapeXml(`<b>Tom & "Jerry's"</b>\u0000\u001b\t`), '&lt;b&gt;Tom &amp; &quot;Jerry&apos;s&quot;&lt;/b&gt;\t');
    assert.equal(escapeXml('Zoë · 😀'), 'Zoë · 😀');
  });
});
