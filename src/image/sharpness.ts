import type { Box } from '../core/types.js';
import type { RgbImage } from './image.js';

/** Samples per side at most: enough to tell a sharp face from a blurred one, cheap on every frame. */
const GRID = 64;

/**
 * Sharpness of the face in `box`: the variance of the Laplacian of its luma, sampled on a grid of at most 64×64
 * points (a blurred face has weak second derivatives). Only comparable between sightings of similar size, which is
 * how tracks use it (relative to the track's sharpest sighting). 0 for a box outside the image.
 */
export function faceSharpness(image: RgbImage, box: Box): number {
  const x0 = Math.max(1, Math.floor(box.x));
  const y0 = Math.max(1, Math.floor(box.y));
  const x1 = Math.min(image.width - 2, Math.ceil(box.x + box.width));
  const y1 = Math.min(image.height - 2, Math.ceil(box.y + box.height));
  if (x1 <= x0 || y1 <= y0) return 0;
  const step = Math.max(1, Math.floor(Math.max(x1 - x0, y1 - y0) / GRID));
  const luma = (x: number, y: number): number => {
    const i = (y * image.width + x) * 3;
    return 0.299 * image.data[i]! + 0.587 * image.data[i + 1]! + 0.114 * image.data[i + 2]!;
  };
  let sum = 0;
  let sumSquares = 0;
  let count = 0;
  for (let y = y0; y <= y1; y += step) {
    for (let x = x0; x <= x1; x += step) {
      // The 4-neighbour Laplacian at the sampling step's scale.
      const xl = Math.max(0, x - step);
      const xr = Math.min(image.width - 1, x + step);
      const yu = Math.max(0, y - step);
      const yd = Math.min(image.height - 1, y + step);
      const laplacian = luma(xl, y) + luma(xr, y) + luma(x, yu) + luma(x, yd) - 4 * luma(x, y);
      sum += laplacian;
      sumSquares += laplacian * laplacian;
      count += 1;
    }
  }
  const mean = sum / count;
  return sumSquares / count - mean * mean;
}

/** The pixels of `box` widened by `margin` of its size on each side, clipped to the image (for a track's crop). */
export function cropRgb(image: RgbImage, box: Box, margin = 0.2): RgbImage {
  const x0 = Math.max(0, Math.floor(box.x - margin * box.width));
  const y0 = Math.max(0, Math.floor(box.y - margin * box.height));
  const x1 = Math.min(image.width, Math.ceil(box.x + box.width * (1 + margin)));
  const y1 = Math.min(image.height, Math.ceil(box.y + box.height * (1 + margin)));
  const width = Math.max(1, x1 - x0);
  const height = Math.max(1, y1 - y0);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height && y0 + y < image.height; y++) {
    const from = ((y0 + y) * image.width + x0) * 3;
    data.set(image.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height, data };
}
