import { createWriteStream, type WriteStream } from 'node:fs';
import { Command } from 'commander';
import type { FaceAttribute } from '../../core/types.js';
import { FacedbError } from '../../errors/errors.js';
import { exitCodeFor } from '../../errors/exit-codes.js';
import { annotateRgb } from '../../image/annotate.js';
import type { WatchEvent } from '../../services/watch-service.js';
import { openVideoWriter, type VideoWriter } from '../../video/ffmpeg-writer.js';
import { integerOption, print, withAttributeOption, withFaceLimits, withOperatingPoint, type CliContext } from '../context.js';
import { onInterrupt } from '../interrupt.js';
import { formatWatchEvent } from '../watch-report.js';

interface WatchFlags {
  json?: boolean;
  every?: number;
  annotate?: string;
  events?: string;
  /** commander's `--no-emotion`, kept as the short form of `--attributes none` */
  emotion?: boolean;
  attributes?: FaceAttribute[];
  threshold?: number;
  far?: number;
  maxFaces?: number;
  minFaceSize?: number;
  maxSide?: number;
}

export function watchCommand(ctx: CliContext): Command {
  const command = new Command('watch')
    .description('follow the faces in a video file, an rtsp:// or http(s):// stream or a /dev/video* camera, and say who each one is')
    .argument('<source>', 'a video file, a stream URL or a camera device (decoded by ffmpeg)')
    .option('--json', 'one JSON event per line instead of the human report')
    .option('--every <n>', 'analyse every n-th frame (default 1: every frame)', integerOption('--every'))
    .option('--annotate <out.mp4>', 'write the video with boxes, names and track ids')
    .option('--events <file>', 'also write every event as JSON lines to this file')
    .option('--no-emotion', 'the same as --attributes none: skip the emotion of each face (faster)')
    .option('--max-side <px>', 'scale frames down to this longest side before analysis (default 1280)', integerOption('--max-side'));
  return withAttributeOption(withFaceLimits(withOperatingPoint(command)), 'emotion').action(async (source: string, flags: WatchFlags) => {
    if (flags.every !== undefined && flags.every < 1) throw new FacedbError('invalid_input', '--every must be 1 or more');
    const service = await ctx.open('existing', { threshold: flags.threshold, targetFar: flags.far });
    const interrupt = onInterrupt('stopping the watch; open tracks are reported as ended');
    let eventsFile: WriteStream | undefined;
    let writer: VideoWriter | undefined;
    let last: Extract<WatchEvent, { type: 'ended' }> | undefined;
    try {
      if (flags.events) eventsFile = createWriteStream(flags.events);
      for await (const event of service.watch(source, {
        ...flags,
        ...(flags.emotion === false ? { attributes: [] } : {}),
        signal: interrupt.signal,
        ...(flags.annotate
          ? {
              // The writer opens on the `started` event, which comes before any frame.
              onFrame: async ({ frame, faces }) => {
                const drawn = await annotateRgb(frame.image, faces.map((face) => ({ ...face, ...(face.emotion ? { sublabel: face.emotion } : {}) })));
                await writer?.write(drawn);
              },
            }
          : {}),
      })) {
        if (event.type === 'started' && flags.annotate) writer = openVideoWriter(flags.annotate, event.source, service.config.ffmpeg);
        if (event.type === 'ended') last = event;
        const json = JSON.stringify(event);
        eventsFile?.write(`${json}\n`);
        print(flags.json ? json : formatWatchEvent(event));
      }
      await writer?.close();
    } finally {
      interrupt.release();
      await new Promise<void>((resolve) => (eventsFile ? eventsFile.end(resolve) : resolve()));
      await service.close();
    }
    if (last?.reason === 'interrupted') process.exitCode = 130;
    else if (last?.reason === 'stalled' || last?.reason === 'lost') process.exitCode = exitCodeFor('unreachable');
  });
}
