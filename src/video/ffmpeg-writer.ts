/**
 * Writes packed-RGB frames to a video file through ffmpeg (H.264 in MP4, or whatever the file's extension tells
 * ffmpeg), for `facedb watch --annotate`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { FacedbError } from '../errors/errors.js';

export interface VideoWriter {
  /** Queues a frame; resolves when ffmpeg can take more (the pipe applies back-pressure). */
  write(rgb: Uint8Array): Promise<void>;
  /** Finishes the file; rejects with ffmpeg's reason when it failed. */
  close(): Promise<void>;
}

export function openVideoWriter(out: string, size: { width: number; height: number; fps: number }, ffmpeg = 'ffmpeg'): VideoWriter {
  const fps = size.fps > 0 ? size.fps : 25;
  const args = [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${size.width}x${size.height}`, '-r', String(fps), '-i', 'pipe:0',
    ...(out.toLowerCase().endsWith('.mp4') ? ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart'] : []),
    out,
  ];
  const child = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  let failed: Error | undefined;
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4096)));
  child.on('error', (error) => (failed = error));
  // A write after ffmpeg died raises EPIPE on the pipe; the reason is reported by close().
  child.stdin.on('error', (error) => (failed ??= error));
  const exited = once(child, 'close') as Promise<[number | null]>;
  const reason = (): FacedbError =>
    new FacedbError('invalid_input', `cannot write the annotated video ${out}: ${stderr.trim().split('\n').at(-1) ?? failed?.message ?? 'ffmpeg failed'}`);
  return {
    async write(rgb) {
      if (failed !== undefined || child.exitCode !== null) throw reason();
      if (!child.stdin.write(rgb)) await Promise.race([once(child.stdin, 'drain'), exited]);
    },
    async close() {
      child.stdin.end();
      const [code] = await exited;
      if (code !== 0) throw reason();
    },
  };
}
