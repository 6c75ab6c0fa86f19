import type { Box, Point } from '../core/types.js';
import type { FaceAnalysis, FaceEngine } from '../engine/engine.js';
import type { DecodedImage, RgbImage } from '../image/image.js';

/** Original pixels per decoded pixel along each axis (1 when the photo was decoded at full size). */
export function shrinkFactors(image: RgbImage & Pick<DecodedImage, 'original'>): { x: number; y: number } {
  const { original } = image;
  if (original === undefined) return { x: 1, y: 1 };
  return { x: original.width / image.width, y: original.height / image.height };
}

function scaleBox(box: Box, x: number, y: number): Box {
  return { x: box.x * x, y: box.y * y, width: box.width * x, height: box.height * y };
}

function scalePoint([px, py]: Point, x: number, y: number): Point {
  return [px * x, py * y];
}

const answeringInOriginalPixels = new WeakSet<FaceEngine>();

/**
 * An engine that answers in the photo's original pixels: photos shrunk while decoding (DecodedImage.original)
 * are analysed at the decoded size, then boxes and landmarks are scaled back, and the smallest face size a
 * caller asked for is shrunk along with the photo. Callers never see the decoded size.
 */
export function inOriginalPixels(engine: FaceEngine): FaceEngine {
  // An engine shared between services (tests, the library's `engine` option) must not scale twice.
  if (answeringInOriginalPixels.has(engine)) return engine;
  const wrapped: FaceEngine = {
    get model() {
      return engine.model;
    },
    get landmarkLayout() {
      return engine.landmarkLayout;
    },
    get calibration() {
      return engine.calibration;
    },
    get queueDepth() {
      return engine.queueDepth;
    },
    close: () => engine.close(),
    async analyze(image, options): Promise<FaceAnalysis[]> {
      const { x, y } = shrinkFactors(image);
      if (x === 1 && y === 1) return engine.analyze(image, options);
      const faces = await engine.analyze(image, { ...options, minFaceSize: options.minFaceSize / x });
      return faces.map((face) => ({
        ...face,
        box: scaleBox(face.box, x, y),
        landmarks: face.landmarks.map((point) => scalePoint(point, x, y)),
      }));
    },
  };
  answeringInOriginalPixels.add(wrapped);
  return wrapped;
}
