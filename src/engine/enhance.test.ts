import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { padImage, stretchContrast } from './enhance.js';

function gray(values: number[], width: number) {
  return { width, height: values.length / width, data: Uint8Array.from(values.flatMap((v) => [v, v, v])) };
}

void describe('stretchContrast', () => {
  void it('spreads a low-contrast image over the full range', () => {
    const values = Array.from({ length: 1000 }, (_, i) => 100 + (i % 50));
    const out = stretchContrast(gray(values, 100));
    assert.equal(Math.min(...out.data), 0);
    assert.equal(Math.max(...out.data), 255);
  });

  void it('leaves a flat (blank) image untouched, so noise is not amplified into faces', () => {
    const image = gray(Array.from({ length: 100 }, (_, i) => 250 + (i % 3)), 10);
    assert.equal(stretchContrast(image), image);
  });
});

void describe('padImage', () => {
  void it('adds a mid-grey border around the unchanged image', () => {
    const image = { width: 2, height: 1, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
    const out = padImage(image, 1);
    assert.equal(out.width, 4);
    assert.equal(out.height, 3);
    const grey = [128, 128, 128];
    assert.deepEqual(Array.from(out.data.subarray(12, 24)), [...grey, 1, 2, 3, 4, 5, 6, ...grey]);
    assert.ok(out.data.subarray(0, 12).every((v) => v === 128));
    assert.ok(out.data.subarray(24).every((v) => v === 128));
  });
});
