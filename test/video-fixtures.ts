/**
 * Test videos made with ffmpeg from the shared LFW photos: people's photos moving over a 640×480 grey picture
 * (panning, zooming, entering and leaving), for the watch tests and bench:video.
 */
import { spawn } from 'node:child_process';
import { lfwPhoto } from './fixtures.js';

export interface Actor {
  /** A photo file. */
  photo: string;
  /** Seconds during which the photo is in the picture. */
  from: number;
  to: number;
  /** ffmpeg expressions of `t` (seconds): top-left corner and width in pixels. */
  x: string;
  y: string;
  size: string;
}

export interface VideoSpec {
  seconds: number;
  fps: number;
  actors: Actor[];
  width?: number;
  height?: number;
}

/** Runs ffmpeg to the end; rejects with its last lines on failure. */
export function runFfmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${stderr.slice(-2000)}`))));
  });
}

/** Writes an H.264 MP4 (or any container ffmpeg infers from `out`, e.g. .y4m for Chromium's fake camera). */
export async function makeVideo(out: string, spec: VideoSpec): Promise<string> {
  const width = spec.width ?? 640;
  const height = spec.height ?? 480;
  const inputs = ['-f', 'lavfi', '-i', `color=c=0x808080:s=${width}x${height}:r=${spec.fps}:d=${spec.seconds}`];
  const filters: string[] = [];
  let last = '0';
  spec.actors.forEach((actor, i) => {
    inputs.push('-loop', '1', '-framerate', String(spec.fps), '-i', actor.photo);
    filters.push(`[${i + 1}]scale=w='${actor.size}':h=-2:eval=frame[a${i}]`);
    filters.push(`[${last}][a${i}]overlay=x='${actor.x}':y='${actor.y}':enable='between(t,${actor.from},${actor.to})':shortest=1:eval=frame[v${i}]`);
    last = `v${i}`;
  });
  const encoder = out.endsWith('.y4m') ? ['-pix_fmt', 'yuv420p'] : ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'];
  const graph = filters.length > 0 ? ['-filter_complex', filters.join(';'), '-map', `[${last}]`] : [];
  await runFfmpeg([...inputs, ...graph, '-t', String(spec.seconds), '-r', String(spec.fps), ...encoder, out]);
  return out;
}

/**
 * The watch scenario: an enrolled person pans across and zooms (0–3 s), nobody (3–4 s), a second enrolled person
 * walks in from the right while a stranger stands on the left (4–8 s), nobody (8–10 s). The photos in the video
 * are each person's last photo in the subset; `ENROLLED` lists the photos to enroll instead (never the same ones).
 */
export const SCENARIO = {
  first: { person: 'Arnold_Schwarzenegger', photo: lfwPhoto('Arnold_Schwarzenegger', 42) },
  second: { person: 'Andre_Agassi', photo: lfwPhoto('Andre_Agassi', 36) },
  stranger: { person: 'Bill_Gates', photo: lfwPhoto('Bill_Gates', 17) },
};

export const ENROLLED: Record<string, string[]> = {
  'Arnold Schwarzenegger': [1, 2, 3, 4, 5].map((i) => lfwPhoto('Arnold_Schwarzenegger', i)),
  'Andre Agassi': [1, 2, 3, 4, 5].map((i) => lfwPhoto('Andre_Agassi', i)),
};

export function scenarioSpec(fps = 10): VideoSpec {
  return {
    seconds: 10,
    fps,
    actors: [
      { photo: SCENARIO.first.photo, from: 0, to: 3, x: '20+100*t', y: '110', size: '200+20*t' },
      { photo: SCENARIO.second.photo, from: 4, to: 8, x: '640-90*(t-4)', y: '130', size: '210' },
      { photo: SCENARIO.stranger.photo, from: 4, to: 8, x: '10', y: '150', size: '200' },
    ],
  };
}
