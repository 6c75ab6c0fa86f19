/** Pure pixel operations for the engine's second detection pass (photos where the plain pass found no face). */
import type { RgbImage } from '../image/image.js';

/** Share of the darkest and of the brightest pixels allowed to saturate when stretching. */
const CLIP_FRACTION = 0.01;
/** Below this luminance range the image is treated as flat (blank, solid colour) and left alone, so noise is not amplified into faces. */
const MIN_RANGE = 24;

/**
 * Linear contrast stretch on luminance percentiles, the same gain on all three channels so colours keep their hue.
 * Helps washed-out, dark and low-contrast grayscale photos.
 */
export function stretchContrast(image: RgbImage): RgbImage {
  const { data } = image;
  const pixels = image.width * image.height;
  const histogram = new Uint32Array(256);
  for (let i = 0; i < pixels; i++) {
    const r = data[3 * i] ?? 0;
    const g = data[3 * i + 1] ?? 0;
    const b = data[3 * i + 2] ?? 0;
    const luminance = (r * 77 + g * 150 + b * 29) >> 8;
    histogram[luminance] = (histogram[luminance] ?? 0) + 1;
  }
  const clip = pixels * CLIP_FRACTION;
  let low = 0;
  for (let seen = histogram[0] ?? 0; seen <= clip && low < 255; seen += histogram[low] ?? 0) low++;
  let high = 255;
  for (let seen = histogram[255] ?? 0; seen <= clip && high > 0; seen += histogram[high] ?? 0) high--;
  if (high - low < MIN_RANGE) return image;
  const lookup = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lookup[v] = Math.min(255, Math.max(0, Math.round(((v - low) * 255) / (high - low))));
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = lookup[data[i] ?? 0] ?? 0;
  return { width: image.width, height: image.height, data: out };
}

/** Mid-grey: on FER crops it let SSD find 3x more faces than repeating the edge pixels, which smears streaks. */
const BORDER_GREY = 128;

/** Adds a flat mid-grey border of `border` pixels on every side. */
export function padImage(image: RgbImage, border: number): RgbImage {
  const { width, height, data } = image;
  const outWidth = width + 2 * border;
  const out = new Uint8Array(outWidth * (height + 2 * border) * 3).fill(BORDER_GREY);
  const rowBytes = width * 3;
  for (let y = 0; y < height; y++) {
    out.set(data.subarray(y * rowBytes, (y + 1) * rowBytes), ((y + border) * outWidth + border) * 3);
  }
  return { width: outWidth, height: height + 2 * border, data: out };
}
