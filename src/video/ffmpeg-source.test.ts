import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isFacedbError } from '../errors/errors.js';
import { tempDir } from '../../test/fixtures.js';
import { makeVideo, runFfmpeg, scenarioSpec } from '../../test/video-fixtures.js';
import { openVideoSource, type VideoEnd, type VideoFrame, type VideoSource } from './ffmpeg-source.js';

async function drain(source: VideoSource, each?: (frame: VideoFrame) => Promise<void>): Promise<{ frames: VideoFrame[]; end: VideoEnd }> {
  const frames: VideoFrame[] = [];
  const iterator = source.frames();
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { frames, end: next.value };
    frames.push(next.value);
    await each?.(next.value);
  }
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

describe('openVideoSource (ffmpeg)', () => {
  let dir: string;
  let video: string;
  before(async () => {
    dir = await tempDir('facedb-video-');
    video = await makeVideo(join(dir, 'scenario.mp4'), { ...scenarioSpec(), seconds: 3 });
  });

  it('reads every frame of a file as 640×480 RGB with video times from the frame rate', async () => {
    const source = await openVideoSource(video);
    assert.deepEqual({ ...source.info, source: undefined }, { source: undefined, kind: 'file', live: false, width: 640, height: 480, fps: 10 });
    // A slow consumer of a file loses nothing: ffmpeg waits.
    const { frames, end } = await drain(source, () => new Promise((resolve) => setTimeout(resolve, 5)));
    assert.deepEqual(end, { reason: 'end' });
    assert.equal(frames.length, 30);
    assert.equal(source.dropped, 0);
    assert.deepEqual(
      frames.slice(0, 3).map((frame) => frame.timeMs),
      [0, 100, 200],
    );
    assert.equal(frames[0]!.image.data.length, 640 * 480 * 3);
  });

  it('scales a large picture down to maxSide, keeping its aspect', async () => {
    const big = await makeVideo(join(dir, 'big.mp4'), { seconds: 1, fps: 5, width: 1920, height: 1080, actors: [] });
    const source = await openVideoSource(big, { maxSide: 640 });
    assert.equal(source.info.width, 640);
    assert.equal(source.info.height, 360);
    const { frames } = await drain(source);
    assert.equal(frames.length, 5);
  });

  it('refuses a missing file, a file that is no video and an unknown scheme, each with its reason', async () => {
    await assert.rejects(openVideoSource(join(dir, 'nope.mp4')), (error) => isFacedbError(error) && error.code === 'not_found' && /no video file/.test(error.message));
    await assert.rejects(openVideoSource('/dev/video99'), (error) => isFacedbError(error) && error.code === 'not_found' && /no camera/.test(error.message));
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'not a video\n');
    await assert.rejects(openVideoSource(text), (error) => isFacedbError(error) && error.code === 'invalid_input' && /ffmpeg cannot read/.test(error.message));
    await assert.rejects(openVideoSource('ftp://example.invalid/x.mp4'), (error) => isFacedbError(error) && error.code === 'invalid_input' && /unsupported source/.test(error.message));
    await assert.rejects(openVideoSource(video, { ffmpeg: '/nonexistent/ffmpeg' }), (error) => isFacedbError(error) && /apt-get install ffmpeg/.test(error.message));
  });

  describe('live streams', () => {
    let server: Server;
    let url: string;
    let stream: Buffer;
    before(async () => {
      // An MPEG-TS stream served over HTTP: a live source to ffmpeg (it cannot wait for a slow consumer).
      const ts = join(dir, 'live.ts');
      await runFfmpeg(['-i', await makeVideo(join(dir, 'long.mp4'), { ...scenarioSpec(25), seconds: 8 }), '-c', 'copy', '-f', 'mpegts', ts]);
      stream = await import('node:fs/promises').then((fs) => fs.readFile(ts));
      server = createServer((request, response) => {
        if (request.url === '/stall') {
          // Sends the start of the stream, then nothing: a camera that hangs.
          response.writeHead(200, { 'content-type': 'video/mp2t' });
          response.write(stream.subarray(0, 188 * 2000));
          return;
        }
        response.writeHead(200, { 'content-type': 'video/mp2t' });
        response.end(stream);
      });
      url = await listen(server);
    });
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    it('drops and counts frames a slow consumer cannot take, keeping memory bounded', async () => {
      const source = await openVideoSource(`${url}/live.ts`, { maxQueued: 2 });
      assert.equal(source.info.live, true);
      const { frames, end } = await drain(source, () => new Promise((resolve) => setTimeout(resolve, 40)));
      assert.deepEqual(end, { reason: 'end' });
      assert.ok(source.dropped > 0, 'a consumer slower than the stream loses frames');
      assert.equal(frames.length + source.dropped, 200, 'every frame is either delivered or counted as dropped');
      // Indexes count dropped frames too, so a gap shows where frames went.
      assert.ok(frames.some((frame, i) => i > 0 && frame.index > frames[i - 1]!.index + 1));
    });

    it('refuses a stream nobody serves as unreachable', async () => {
      const closed = createServer();
      const dead = await listen(closed);
      await new Promise((resolve) => closed.close(resolve));
      await assert.rejects(
        openVideoSource(`${dead}/camera.ts`, { stallMs: 2000 }),
        (error) => isFacedbError(error) && error.code === 'unreachable' && /cannot open the stream/.test(error.message),
      );
    });

    it('reports a stream that stops sending as stalled', async () => {
      const source = await openVideoSource(`${url}/stall`, { stallMs: 1500 });
      const { end } = await drain(source);
      assert.equal(end.reason, 'stalled');
      assert.match(end.reason === 'stalled' ? end.message : '', /^no (frame|data) from http:\/\/127\.0\.0\.1:\d+\/stall for 2 s$/);
    });
  });
});
