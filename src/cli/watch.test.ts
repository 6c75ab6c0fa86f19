import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../test/fixtures.js';
import { facedb } from '../../test/cli-process.js';
import { ENROLLED, makeVideo, runFfmpeg, scenarioSpec } from '../../test/video-fixtures.js';
import { exitCodeFor } from '../errors/exit-codes.js';
import type { WatchEvent } from '../services/watch-service.js';

type TrackEnded = Extract<WatchEvent, { type: 'track_ended' }>;

/**
 * `facedb watch` end to end with the real default engine: two enrolled people and a stranger in a test video made
 * from LFW photos that are not the enrolled ones (test/video-fixtures.ts).
 */
describe('facedb watch', () => {
  let work: string;
  let db: string;
  let video: string;

  before(async () => {
    work = await tempDir('facedb-watch-');
    db = join(work, 'gallery.sqlite');
    for (const [person, photos] of Object.entries(ENROLLED)) {
      const enrolled = await facedb(['enroll', '--person', person, ...photos, '--db', db, '--quiet']);
      assert.equal(enrolled.code, 0, enrolled.stderr);
    }
    // Five frames a second keeps the test short; tracking and naming do not depend on the rate.
    video = await makeVideo(join(work, 'scenario.mp4'), scenarioSpec(5));
  });

  it('names each enrolled person once per appearance, leaves the stranger unknown, writes events and an annotated video', async () => {
    const events = join(work, 'events.jsonl');
    const annotated = join(work, 'annotated.mp4');
    const run = await facedb(['watch', video, '--db', db, '--json', '--events', events, '--annotate', annotated]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as WatchEvent);
    assert.deepEqual(
      (await readFile(events, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as WatchEvent),
      lines,
      '--events holds the same events',
    );
    assert.equal(lines[0]?.type, 'started');
    const ended = lines.at(-1);
    assert.equal(ended?.type, 'ended');
    assert.equal(ended.type === 'ended' && ended.reason, 'end');

    const tracks = lines.filter((event): event is TrackEnded => event.type === 'track_ended');
    const named = (person: string | null): TrackEnded[] => tracks.filter((track) => (track.identity?.person ?? null) === person);
    assert.equal(named('Arnold Schwarzenegger').length, 1, 'one track for the first person');
    assert.equal(named('Andre Agassi').length, 1, 'one track for the second person');
    assert.equal(named(null).length, 1, 'the stranger is one unknown track');
    assert.equal(tracks.length, 3, 'no wrong name and no other track');
    const arnold = named('Arnold Schwarzenegger')[0]!;
    assert.ok(arnold.startedMs < 600 && arnold.durationMs > 2000, `the first person is followed through the pan: ${JSON.stringify(arnold)}`);
    assert.ok(arnold.framesSeen >= 10);
    assert.ok(arnold.emotion && arnold.emotion.timeline.length >= 1);
    assert.ok(Buffer.from(arnold.bestFrame.crop, 'base64').subarray(0, 2).equals(Buffer.from([0xff, 0xd8])), 'the best frame crop is a JPEG');
    for (const track of tracks) {
      const started = lines.find((event) => event.type === 'track_started' && event.track === track.track);
      assert.ok(started, `track ${track.track} was announced when it started`);
    }
    // Identity events come before the track ends, and agree with the final answer here.
    const decided = lines.filter((event) => event.type === 'identity' && event.track === arnold.track);
    assert.ok(decided.length >= 1);
    assert.ok(lines.indexOf(decided[0]!) < lines.indexOf(arnold));

    const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v', '-show_entries', 'stream=nb_read_frames,width,height', '-of', 'csv=p=0', annotated], { encoding: 'utf8' });
    assert.equal(probe.stdout.trim(), '640,480,50', 'every frame of the video, at its size');
  });

  it('prints one line per event for people, and analyses every n-th frame with --every; --attributes none reads no emotion', async () => {
    const run = await facedb(['watch', video, '--db', db, '--every', '2', '--attributes', 'none']);
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stdout, /mostly/, 'no emotion was read');
    assert.match(run.stdout, /^watching .*scenario\.mp4 \(file, 640×480, 5 fps\)$/m);
    assert.match(run.stdout, /track \d+ ended after [\d.]+ s \(\d+ frames\): Arnold Schwarzenegger \(distance/);
    assert.match(run.stdout, /track \d+ ended after [\d.]+ s \(\d+ frames\): unknown \(nearest/);
    assert.match(run.stdout, /^ended: end of video\. 50 frames, 25 analysed, 0 dropped, 3 tracks/m);
  });

  it('refuses a missing source, a file that is no video and a bad --every with clear messages and exit codes', async () => {
    const missing = await facedb(['watch', join(work, 'nope.mp4'), '--db', db]);
    assert.equal(missing.code, exitCodeFor('not_found'));
    assert.match(missing.stderr, /no video file at .*nope\.mp4/);
    const text = join(work, 'notes.txt');
    await writeFile(text, 'hello\n');
    const notVideo = await facedb(['watch', text, '--db', db]);
    assert.equal(notVideo.code, exitCodeFor('invalid_input'));
    assert.match(notVideo.stderr, /ffmpeg cannot read/);
    const every = await facedb(['watch', video, '--db', db, '--every', '0']);
    assert.equal(every.code, exitCodeFor('invalid_input'));
    assert.match(every.stderr, /--every must be 1 or more/);
    const age = await facedb(['watch', video, '--db', db, '--attributes', 'age']);
    assert.equal(age.code, exitCodeFor('invalid_input'));
    assert.match(age.stderr, /watch reads emotion per track only, not age/);
  });

  describe('a stream that goes away', () => {
    let server: Server;
    let url: string;
    before(async () => {
      const ts = join(work, 'stream.ts');
      await runFfmpeg(['-i', video, '-c', 'copy', '-f', 'mpegts', ts]);
      const bytes = await readFile(ts);
      // Sends the first part of the stream, then hangs: a camera that stopped.
      server = createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'video/mp2t' });
        response.write(bytes.subarray(0, Math.floor(bytes.length / 2 / 188) * 188));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/camera.ts`;
    });
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    it('ends cleanly with the reason and its own exit code, reporting the tracks it had', async () => {
      const run = await facedb(['watch', url, '--db', db, '--json'], { FACEDB_WATCH_STALL_MS: '2000' });
      assert.equal(run.code, exitCodeFor('unreachable'), run.stderr);
      const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as WatchEvent);
      const ended = lines.at(-1);
      assert.ok(ended?.type === 'ended' && ended.reason === 'stalled', JSON.stringify(ended));
      assert.ok(lines.some((event) => event.type === 'track_ended'), 'open tracks are ended, not lost');
    });
  });
});
