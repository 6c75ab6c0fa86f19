/**
 * Frames of a video file, stream or camera, decoded by ffmpeg (a child process) into packed RGB on its stdout.
 * facedb has no decoder of its own: ffmpeg reads every container, codec and protocol people point cameras at.
 *
 * Memory stays bounded whatever the source does. A file is read at the consumer's pace (ffmpeg is paused through
 * its pipe, nothing is dropped). A live source (camera, rtsp/http stream) cannot wait, so only the newest
 * `maxQueued` frames are kept and older ones are dropped and counted.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { FacedbError } from '../errors/errors.js';
import type { RgbImage } from '../image/image.js';

export interface VideoFrame {
  /** 0-based index among the frames ffmpeg delivered (dropped frames count too). */
  index: number;
  /** Video time of the frame: from the frame rate for files, from the clock for live sources. */
  timeMs: number;
  image: RgbImage;
}

export interface VideoSourceInfo {
  source: string;
  kind: 'file' | 'camera' | 'stream';
  /** True for cameras and streams: frames are dropped rather than queued when the consumer is slower. */
  live: boolean;
  width: number;
  height: number;
  /** Frames per second ffmpeg reports for the output (0 when unknown). */
  fps: number;
}

export interface VideoSourceOptions {
  /** Frames are scaled down so their longest side is at most this (default 1280). */
  maxSide?: number;
  /** Live sources: frames kept waiting for the consumer before the oldest is dropped (default 2). */
  maxQueued?: number;
  /** A live source that delivers nothing for this long has stalled: it is stopped and reported (default 10 s). */
  stallMs?: number;
  /** The ffmpeg binary (default `ffmpeg` on the PATH). */
  ffmpeg?: string;
  signal?: AbortSignal;
}

/** Why the frames stopped. */
export type VideoEnd =
  | { reason: 'end' }
  | { reason: 'stalled'; message: string }
  | { reason: 'lost'; message: string }
  | { reason: 'interrupted' };

export interface VideoSource {
  readonly info: VideoSourceInfo;
  /** Frames dropped so far because the consumer was slower than a live source. */
  readonly dropped: number;
  frames(): AsyncGenerator<VideoFrame, VideoEnd>;
  close(): void;
}

const NETWORK = /^(rtsp|rtsps|rtmp|http|https|udp|tcp|srt):\/\//i;

/** Decides how ffmpeg must open a source, refusing what cannot be one with a clear message. */
export async function sourceKind(source: string): Promise<VideoSourceInfo['kind']> {
  if (NETWORK.test(source)) return 'stream';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    throw new FacedbError('invalid_input', `unsupported source ${JSON.stringify(source)}: give a video file, a /dev/video* camera or an rtsp://, http(s):// stream URL`);
  }
  const info = await stat(source).catch(() => null);
  if (info === null) {
    const what = source.startsWith('/dev/video') ? 'camera' : 'video file';
    throw new FacedbError('not_found', `no ${what} at ${source}`, { details: { path: source } });
  }
  if (info.isCharacterDevice()) return 'camera';
  if (!info.isFile()) throw new FacedbError('invalid_input', `${source} is not a video file or a camera`);
  return 'file';
}

function inputArgs(source: string, kind: VideoSourceInfo['kind'], stallMs: number): string[] {
  if (kind === 'camera') return ['-f', 'v4l2', '-i', source];
  if (kind === 'file') return ['-i', source];
  // ffmpeg's own I/O timeout (microseconds) ends a dead connection instead of blocking forever (also while it
  // connects and probes, before any frame).
  const timeout = ['-rw_timeout', String(stallMs * 1000)];
  return source.toLowerCase().startsWith('rtsp') ? ['-rtsp_transport', 'tcp', ...timeout, '-i', source] : [...timeout, '-i', source];
}

/** The scaled size ffmpeg announces for its raw output, e.g. "rgb24(pc, …), 640x480 [SAR 1:1 DAR 4:3], … 25 fps". */
function parseOutputStream(stderr: string): { width: number; height: number; fps: number } | undefined {
  const output = stderr.slice(stderr.indexOf('Output #0'));
  // Only a whole line: stderr arrives in chunks, and a line cut before its "25 fps" would read as an unknown rate.
  const line = /Stream #0:0.*Video: rawvideo.*(?=\r?\n)/.exec(output)?.[0];
  if (line === undefined) return undefined;
  const size = /, (\d+)x(\d+)[ ,]/.exec(line);
  if (!size) return undefined;
  const fps = /([\d.]+) fps/.exec(line);
  return { width: Number(size[1]), height: Number(size[2]), fps: fps ? Number(fps[1]) : 0 };
}

/** The last meaningful line ffmpeg wrote, for an error message (its progress lines are skipped). */
function lastProblem(stderr: string): string {
  const lines = stderr
    .split(/\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('frame=') && !line.startsWith('Press '));
  return lines.at(-1) ?? 'ffmpeg stopped';
}

/**
 * Starts ffmpeg on a source and resolves once it has announced the frame size (so a bad source fails here, with
 * ffmpeg's reason). invalid_input for a source ffmpeg cannot read; storage-free, so nothing else can fail.
 */
export async function openVideoSource(source: string, options: VideoSourceOptions = {}): Promise<VideoSource> {
  const kind = await sourceKind(source);
  const live = kind !== 'file';
  const maxSide = options.maxSide ?? 1280;
  const maxQueued = Math.max(1, options.maxQueued ?? 2);
  const stallMs = options.stallMs ?? 10_000;
  const ffmpeg = options.ffmpeg ?? 'ffmpeg';
  // Shrink only: a frame larger than maxSide on its longest side is scaled down, keeping its aspect (even sizes).
  const scale = `scale=w='if(gte(iw,ih),min(iw,${maxSide}),-2)':h='if(gte(iw,ih),-2,min(ih,${maxSide}))'`;
  const args = ['-hide_banner', '-nostdin', ...inputArgs(source, kind, stallMs), '-an', '-sn', '-vf', scale, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];

  let child: ChildProcessByStdio<null, Readable, Readable>;
  try {
    child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw ffmpegMissing(ffmpeg, error);
  }
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));

  const header = await new Promise<{ width: number; height: number; fps: number }>((resolve, reject) => {
    const onData = (chunk: string): void => {
      // Keep only the tail: ffmpeg's progress lines would otherwise grow this for as long as the video plays.
      stderr = (stderr + chunk).slice(-16_384);
      const parsed = parseOutputStream(stderr);
      if (parsed) {
        child.stderr.off('data', onData);
        resolve(parsed);
      }
    };
    child.stderr.on('data', onData);
    child.once('error', (error) => reject(ffmpegMissing(ffmpeg, error)));
    void exited.then(() =>
      reject(
        live
          ? new FacedbError('unreachable', `cannot open the ${kind} ${source}: ${lastProblem(stderr)}`)
          : new FacedbError('invalid_input', `ffmpeg cannot read ${source}: ${lastProblem(stderr)}`),
      ),
    );
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-16_384);
  });

  const info: VideoSourceInfo = { source, kind, live, ...header };
  const frameBytes = header.width * header.height * 3;
  const startedAt = performance.now();
  const queue: VideoFrame[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let delivered = 0;
  let dropped = 0;
  let ended = false;
  let stalled: string | undefined;
  let lastDataAt = performance.now();
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };

  child.stdout.on('data', (chunk: Buffer) => {
    lastDataAt = performance.now();
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= frameBytes) {
      const joined = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      const frame = new Uint8Array(joined.subarray(0, frameBytes));
      const rest = joined.subarray(frameBytes);
      pending = rest.length > 0 ? [rest] : [];
      pendingBytes = rest.length;
      const index = delivered++;
      const timeMs = live || header.fps <= 0 ? performance.now() - startedAt : (index * 1000) / header.fps;
      queue.push({ index, timeMs, image: { width: header.width, height: header.height, data: frame } });
      if (live && queue.length > maxQueued) {
        queue.shift();
        dropped += 1;
      }
    }
    // A file waits for the consumer: ffmpeg blocks on the full pipe instead of filling memory.
    if (!live && queue.length >= maxQueued) child.stdout.pause();
    notify();
  });
  child.stdout.once('end', () => {
    ended = true;
    notify();
  });
  // A live source that sends nothing for stallMs has stopped, however busy the consumer is meanwhile. (A file is
  // paused by its consumer, and its ffmpeg cannot wait on anything but the disk.)
  const watchdog = live
    ? setInterval(() => {
        if (ended || performance.now() - lastDataAt <= stallMs) return;
        stalled = `no frame from ${source} for ${Math.round(stallMs / 1000)} s`;
        clearInterval(watchdog);
        child.kill('SIGKILL');
      }, Math.max(50, stallMs / 4)).unref()
    : undefined;
  const onAbort = (): void => {
    child.kill('SIGTERM');
    notify();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  async function* frames(): AsyncGenerator<VideoFrame, VideoEnd> {
    try {
      for (;;) {
        if (options.signal?.aborted) return { reason: 'interrupted' };
        const next = queue.shift();
        if (next) {
          if (!live && queue.length < maxQueued) child.stdout.resume();
          yield next;
          continue;
        }
        if (ended) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      const code = await exited;
      if (options.signal?.aborted) return { reason: 'interrupted' };
      if (stalled !== undefined) return { reason: 'stalled', message: stalled };
      // ffmpeg ends a connection that sent nothing for its I/O timeout as if the stream had ended, and says so.
      if (live && /timed out/i.test(stderr)) return { reason: 'stalled', message: `no data from ${source} for ${Math.round(stallMs / 1000)} s` };
      if (code === 0) return { reason: 'end' };
      const message = lastProblem(stderr);
      // A file that ends in an error is damaged; a camera or stream that errors went away.
      return live ? { reason: 'lost', message: `${source}: ${message}` } : { reason: 'lost', message: `${source} ended with an error: ${message}` };
    } finally {
      clearInterval(watchdog);
      options.signal?.removeEventListener('abort', onAbort);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }

  return {
    info,
    get dropped() {
      return dropped;
    },
    frames,
    close: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

function ffmpegMissing(ffmpeg: string, error: unknown): FacedbError {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') {
    return new FacedbError('invalid_input', `${ffmpeg} is not installed: facedb watch decodes video with ffmpeg (Debian/Ubuntu: apt-get install ffmpeg)`);
  }
  return new FacedbError('internal', `cannot start ${ffmpeg}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
