/**
 * facedb watch on test videos made with ffmpeg from the shared LFW photos (test/video-fixtures.ts), default engine:
 *
 * - speed: frames per second handled at 640×480 (25 fps file, read at the watch's pace) with detection on every
 *   frame and with `every` 2 and 3;
 * - identity per track on four scenarios (the tests' scenario, two people crossing, a person who leaves and comes
 *   back, a zoom in and out): tracks correctly named / unknown / wrongly named, and how many tracks each appearance
 *   of a person was split into; the delay from a face entering to its track's first `identity` event (video time);
 * - a live stream: the tests' scenario looped as an MPEG-TS over HTTP on 127.0.0.1, paced at its frame rate
 *   (`ffmpeg -re`), watched for `--minutes` (default 10): frames analysed / dropped, RSS over time and its peak,
 *   and the wall-clock delay from a face entering to its identity event.
 *
 * The people in the videos are enrolled with other photos of theirs (photos 1–5; the videos show each person's
 * last photos); the strangers are not enrolled. Nothing here tunes anything: it runs the product's defaults.
 *
 *   npm run bench:video [-- --minutes 10] [--skip-live]
 *
 * Writes bench/out/video.json.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openFacedb } from '../src/facedb.js';
import type { FaceService } from '../src/services/face-service.js';
import type { WatchEvent, WatchOptions } from '../src/services/watch-service.js';
import { lfwPhoto, tempDir } from '../test/fixtures.js';
import { ENROLLED, makeVideo, SCENARIO, scenarioSpec, type Actor } from '../test/video-fixtures.js';
import { numberOption, writeReport } from './common.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'skip-live': { type: 'boolean', default: false },
  },
});
const minutes = numberOption(args.minutes, 'minutes', Infinity, false)!;

/** Frame rate of every bench video: a common camera's. */
const FPS = 25;

/** An actor with the person it shows (null: a stranger, not enrolled). */
interface Cast extends Actor {
  person: string | null;
  /** The same walk as this earlier actor after a short gap (one track expected across it). */
  continues?: number;
}

/** A scenario the bench makes a video of (at FPS) and watches. */
interface Scenario {
  name: string;
  what: string;
  seconds: number;
  actors: Cast[];
}

const person = (folder: string): string => folder.replaceAll('_', ' ');
/** An actor showing `folder`'s photo `photo` (one of their last photos: photos 1–5 are enrolled). */
const showing = (folder: string, photo: number): Pick<Cast, 'person' | 'photo'> => ({ person: person(folder), photo: lfwPhoto(folder, photo) });

/** Enrolled beyond the tests' two people: photos 1–5 of each; the videos show their last photos. */
const MORE_ENROLLED = ['Ariel_Sharon', 'Alejandro_Toledo', 'Alvaro_Uribe', 'Bill_Clinton'];

const TESTS_SCENARIO = scenarioSpec(FPS);
const TESTS_TRUTH = [SCENARIO.first.person, SCENARIO.second.person, null];
const SCENARIOS: Scenario[] = [
  {
    name: 'tests',
    what: "the tests' scenario: one person pans and zooms, then a second walks in beside a stranger",
    seconds: TESTS_SCENARIO.seconds,
    actors: TESTS_SCENARIO.actors.map((actor, i) => ({ ...actor, person: TESTS_TRUTH[i] ? person(TESTS_TRUTH[i]) : null })),
  },
  {
    name: 'crossing',
    what: 'two enrolled people walk across each other at the same height (crossing at 3 s)',
    seconds: 6,
    actors: [
      { ...showing('Ariel_Sharon', 77), from: 0, to: 6, x: '20+75*t', y: '120', size: '200' },
      { ...showing('Alejandro_Toledo', 39), from: 0, to: 6, x: '420-75*t', y: '140', size: '200' },
    ],
  },
  {
    name: 'return',
    what: 'a person is gone 0.6 s (one track expected), then 2 s (a new track expected), coming back each time',
    seconds: 10,
    actors: [
      { ...showing('Alvaro_Uribe', 35), from: 0, to: 3, x: '60+40*t', y: '120', size: '210' },
      { ...showing('Alvaro_Uribe', 35), continues: 0, from: 3.6, to: 6, x: '300-40*(t-3.6)', y: '120', size: '210' },
      { ...showing('Alvaro_Uribe', 34), from: 8, to: 10, x: '380', y: '100', size: '220' },
    ],
  },
  {
    name: 'zoom',
    what: 'a person zooms from 80 to 360 px and back out in the centre, a stranger stands small on the left',
    seconds: 8,
    actors: [
      { ...showing('Bill_Clinton', 29), from: 0, to: 8, x: '320-(360-70*abs(t-4))/2', y: '240-(360-70*abs(t-4))/2', size: '360-70*abs(t-4)' },
      { ...showing('Angelina_Jolie', 20), person: null, from: 0, to: 8, x: '10', y: '300', size: '130' },
    ],
  },
];

// ---- the actors' positions, from the same ffmpeg expressions the videos were made with ----

/**
 * Evaluates the arithmetic ffmpeg expressions the scenarios above use (numbers, t, + - * /, parentheses, abs()): these
 * are JavaScript expressions too, given `t` and `abs`. They are this file's own constants, never input.
 */
function evaluate(expression: string, t: number): number {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return (new Function('t', 'abs', `return (${expression});`) as (t: number, abs: (x: number) => number) => number)(t, Math.abs);
}

/**
 * The appearance (actor index; a continued walk counts as its first actor) whose photo's subject is at `box` at
 * video time `ms`; LFW photos are square, their subject in the middle.
 */
function appearanceAt(actors: Cast[], ms: number, box: { x: number; y: number; width: number; height: number }): number | undefined {
  const t = ms / 1000;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  let found: number | undefined;
  actors.forEach((actor, i) => {
    if (t < actor.from || t > actor.to) return;
    const x = evaluate(actor.x, t);
    const y = evaluate(actor.y, t);
    const size = evaluate(actor.size, t);
    // An LFW photo's subject is centred; other faces in it (people behind) are not the actor.
    if (Math.abs(cx - (x + size / 2)) <= size * 0.25 && Math.abs(cy - (y + size / 2)) <= size * 0.3) found = actor.continues ?? i;
  });
  return found;
}

// ---- watching ----

type Watched = Awaited<ReturnType<typeof watch>>;

/** Watches `source` to its end: every event with its wall-clock time, and RSS every `sampleRssMs` if given. */
async function watch(facedb: FaceService, source: string, options: WatchOptions, sampleRssMs = 0) {
  const events: Array<{ event: WatchEvent; wallMs: number }> = [];
  const rss: Array<{ seconds: number; mb: number }> = [];
  let startedWallMs = performance.now();
  const calledMs = performance.now();
  const sample = (): number => rss.push({ seconds: Math.round((performance.now() - calledMs) / 1000), mb: process.memoryUsage().rss / 2 ** 20 });
  const sampler = sampleRssMs > 0 ? setInterval(sample, sampleRssMs) : undefined;
  let ended: Extract<WatchEvent, { type: 'ended' }> | undefined;
  try {
    for await (const event of facedb.watch(source, options)) {
      const wallMs = performance.now();
      if (event.type === 'started') {
        startedWallMs = wallMs;
        if (sampleRssMs > 0) sample();
      }
      if (event.type === 'ended') ended = event;
      // The best frame's crop is not needed here and would hold memory for ten minutes.
      events.push({ event: event.type === 'track_ended' ? { ...event, bestFrame: { ...event.bestFrame, crop: '' } } : event, wallMs });
    }
  } finally {
    clearInterval(sampler);
  }
  if (sampleRssMs > 0) sample();
  if (!ended) throw new Error(`the watch of ${source} did not end`);
  // startedWallMs: wall clock (ms, performance.now()) at the `started` event: the source's clock starts then.
  return { events, ended, startedWallMs, rss };
}

interface TrackResult {
  track: number;
  /** The appearance (actor index) its first and best sightings fall in; -1: none (another face). */
  appearance: number;
  /** The first and best sightings fall in different appearances. */
  mixed: boolean;
  truth: string | null | undefined;
  named: string | null;
  /** 'other face': not an actor's subject (a person behind the subject in an LFW photo, or a false detection). */
  outcome: 'correct' | 'stranger unknown' | 'enrolled unknown' | 'wrong' | 'other face unknown' | 'other face named';
  /** Video ms from the appearance's entry to the track's first identity event (first track of an appearance). */
  identityDelayMs: number | null;
  /** Wall ms from the face's entry to the identity event reaching the consumer (live sources). */
  identityWallMs: number | null;
  durationMs: number;
}

/**
 * Scores each ended track against the cast. Video time comes from frame indexes (files and live streams alike:
 * indexes count dropped frames); for a looped live stream, `periodMs` folds it into the scenario.
 */
function scoreTracks(watched: Watched, actors: Cast[], fps: number, periodMs = Infinity): TrackResult[] {
  const videoMs = (frame: number): number => ((frame * 1000) / fps) % periodMs;
  const loopStart = (frame: number): number => (frame * 1000) / fps - videoMs(frame);
  const started = new Map<number, Extract<WatchEvent, { type: 'track_started' }>>();
  const firstIdentity = new Map<number, { event: Extract<WatchEvent, { type: 'identity' }>; wallMs: number }>();
  const results: TrackResult[] = [];
  const firstOfAppearance = new Set<string>();
  for (const { event } of watched.events) if (event.type === 'track_started') started.set(event.track, event);
  for (const { event, wallMs } of watched.events) if (event.type === 'identity' && !firstIdentity.has(event.track)) firstIdentity.set(event.track, { event, wallMs });
  for (const { event } of watched.events) {
    if (event.type !== 'track_ended') continue;
    const start = started.get(event.track);
    const best = appearanceAt(actors, videoMs(event.bestFrame.frame), event.bestFrame.box);
    const first = start ? appearanceAt(actors, videoMs(start.frame), start.box) : best;
    const appearance = best ?? first ?? -1;
    const truth = appearance >= 0 ? actors[appearance]!.person : undefined;
    const named = event.identity?.person ?? null;
    const outcome: TrackResult['outcome'] =
      truth === undefined ? (named === null ? 'other face unknown' : 'other face named') : named === null ? (truth === null ? 'stranger unknown' : 'enrolled unknown') : named === truth ? 'correct' : 'wrong';
    let identityDelayMs: number | null = null;
    let identityWallMs: number | null = null;
    const decided = firstIdentity.get(event.track);
    const key = `${start ? loopStart(start.frame) : 0}/${appearance}`;
    if (decided && appearance >= 0 && !firstOfAppearance.has(key)) {
      firstOfAppearance.add(key);
      const entryFrame = ((loopStart(decided.event.frame) + actors[appearance]!.from * 1000) * fps) / 1000;
      identityDelayMs = ((decided.event.frame - entryFrame) * 1000) / fps;
      // The source's clock (timeMs) started at the `started` event; the entry frame arrived `identityDelayMs`
      // of stream before the identity frame (a live stream arrives at its frame rate).
      const entryArrivalMs = decided.event.timeMs - identityDelayMs;
      identityWallMs = decided.wallMs - watched.startedWallMs - entryArrivalMs;
    }
    const mixed = first !== undefined && best !== undefined && first !== best && actors[first]!.person !== actors[best]!.person;
    results.push({ track: event.track, appearance, mixed, truth, named, outcome, identityDelayMs, identityWallMs, durationMs: event.durationMs });
  }
  return results;
}

function summarise(results: TrackResult[], actors: Cast[]) {
  const count = (outcome: TrackResult['outcome']): number => results.filter((result) => result.outcome === outcome).length;
  const perAppearance = actors.flatMap((actor, i) =>
    actor.continues === undefined
      ? [{ appearance: i, person: actor.person ?? 'stranger', from: actor.from, tracks: results.filter((result) => result.appearance === i).length }]
      : [],
  );
  const delays = results.map((result) => result.identityDelayMs).filter((ms): ms is number => ms !== null);
  return {
    tracks: results.length,
    correct: count('correct'),
    strangerUnknown: count('stranger unknown'),
    enrolledUnknown: count('enrolled unknown'),
    wrong: count('wrong'),
    otherFacesUnknown: count('other face unknown'),
    otherFacesNamed: count('other face named'),
    mixed: results.filter((result) => result.mixed).length,
    perAppearance,
    identityDelayMs: delays,
  };
}

/** The cells the identity and live tables share: tracks, named right, stranger unknown, enrolled unknown, wrong. */
const outcomeCells = (summary: ReturnType<typeof summarise>): number[] =>
  [summary.tracks, summary.correct, summary.strangerUnknown, summary.enrolledUnknown, summary.wrong];

// ---- the live stream ----

/** Serves `video` looped, paced at its frame rate, as one endless MPEG-TS over HTTP on 127.0.0.1. */
async function serveLoop(video: string): Promise<{ url: string; close: () => void }> {
  const children = new Set<ReturnType<typeof spawn>>();
  const server = createServer((_request, response) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', video, '-c', 'copy', '-f', 'mpegts', 'pipe:1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.add(child);
    response.writeHead(200, { 'content-type': 'video/mp2t' });
    child.stdout.pipe(response);
    response.on('close', () => {
      child.kill('SIGKILL');
      children.delete(child);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/live.ts`,
    close: () => {
      for (const child of children) child.kill('SIGKILL');
      server.closeAllConnections();
      server.close();
    },
  };
}

// ---- printing ----

function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]): string => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const fixed = (value: number, digits = 1): string => value.toFixed(digits);
const range = (values: number[]): string => {
  if (values.length === 0) return '–';
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return `${Math.round(median)} (${Math.round(sorted[0]!)}–${Math.round(sorted.at(-1)!)})`;
};

// ---- main ----

const work = await tempDir('facedb-bench-video-');
const report: Record<string, unknown> = { date: new Date().toISOString(), fps: FPS, size: '640x480' };
const facedb = await openFacedb({ db: join(work, 'gallery.sqlite') });
try {
  const enroll = [
    ...Object.entries(ENROLLED).flatMap(([name, photos]) => photos.map((path) => ({ person: name, path }))),
    ...MORE_ENROLLED.flatMap((folder) => [1, 2, 3, 4, 5].map((i) => ({ person: person(folder), path: lfwPhoto(folder, i) }))),
  ];
  const enrolled = await facedb.enroll(enroll);
  report.engine = (await facedb.engine()).model;
  report.enrolled = { people: 2 + MORE_ENROLLED.length, photos: enroll.length, summary: enrolled };

  const videoOf = (scenario: Scenario): string => join(work, `${scenario.name}.mp4`);
  for (const scenario of SCENARIOS) await makeVideo(videoOf(scenario), { ...scenario, fps: FPS });
  // Warm the engine (model loading is not watching).
  await watch(facedb, await makeVideo(join(work, 'warm.mp4'), { seconds: 1, fps: FPS, actors: [] }), {});

  // Speed and identity: the tests' scenario at every 1, 2, 3; the other scenarios at every 1.
  const speedRows: Array<Array<string | number>> = [];
  const identityRows: Array<Array<string | number>> = [];
  const speed: unknown[] = [];
  const identity: unknown[] = [];
  for (const scenario of SCENARIOS) {
    for (const every of scenario.name === 'tests' ? [1, 2, 3] : [1]) {
      const watched = await watch(facedb, videoOf(scenario), { every });
      const { ended } = watched;
      const seconds = ended.elapsedMs / 1000;
      const results = scoreTracks(watched, scenario.actors, FPS);
      const summary = summarise(results, scenario.actors);
      const delays = range(summary.identityDelayMs);
      if (scenario.name === 'tests') {
        speed.push({ every, frames: ended.frames, analysed: ended.framesAnalyzed, seconds, framesPerSecond: ended.frames / seconds, analysesPerSecond: ended.framesAnalyzed / seconds });
        speedRows.push([every, ended.frames, ended.framesAnalyzed, fixed(seconds), fixed(ended.frames / seconds), fixed(ended.framesAnalyzed / seconds), `${fixed(ended.frames / seconds / FPS, 2)}×`, delays]);
      }
      identity.push({ scenario: scenario.name, what: scenario.what, every, ...summary, results });
      const others = `${summary.otherFacesUnknown} / ${summary.otherFacesNamed}`;
      const perAppearance = summary.perAppearance.map((appearance) => appearance.tracks).join(' / ');
      identityRows.push([`${scenario.name}${every > 1 ? ` every ${every}` : ''}`, ...outcomeCells(summary), others, summary.mixed, perAppearance, delays]);
    }
  }
  report.speed = speed;
  report.identity = identity;
  console.log(`\nSpeed, 640×480 ${FPS} fps file (the tests' scenario, 10 s), engine ${JSON.stringify(report.engine)}`);
  console.log(table(['every', 'frames', 'analysed', 'seconds', 'frames/s', 'analyses/s', 'real time', 'delay to identity ms, median (range)'], speedRows));
  console.log('\nIdentity per track (final answer at track end); tracks per appearance in cast order; delay: video ms from entry to the first identity event');
  console.log(table(['scenario', 'tracks', 'named right', 'stranger unknown', 'enrolled unknown', 'wrong name', 'other faces unknown / named', 'mixed', 'tracks per appearance', 'delay ms'], identityRows));

  if (!args['skip-live']) {
    const cast = SCENARIOS[0]!;
    const served = await serveLoop(videoOf(cast));
    try {
      const watched = await watch(facedb, served.url, { signal: AbortSignal.timeout(minutes * 60_000) }, 5000);
      const { ended } = watched;
      const results = scoreTracks(watched, cast.actors, FPS, cast.seconds * 1000);
      const summary = summarise(results, cast.actors);
      const peak = Math.max(...watched.rss.map((sample) => sample.mb));
      const wall = results.map((result) => result.identityWallMs).filter((ms): ms is number => ms !== null);
      const analysedPerSecond = ended.framesAnalyzed / (ended.elapsedMs / 1000);
      report.live = {
        minutes,
        ended,
        analysedPerSecond,
        rss: watched.rss,
        peakRssMb: peak,
        identityWallMs: wall,
        identityVideoMs: summary.identityDelayMs,
        tracks: { ...summary, perAppearance: undefined, identityDelayMs: undefined },
      };
      console.log(`\nLive: the tests' scenario looped as MPEG-TS over HTTP at ${FPS} fps for ${minutes} min (${ended.reason})`);
      const header = ['frames', 'analysed', 'dropped', 'analysed/s', 'tracks', 'named right', 'stranger unknown', 'enrolled unknown', 'wrong'];
      const frames = [ended.frames, ended.framesAnalyzed, ended.framesDropped, fixed(analysedPerSecond)];
      const row = [...frames, ...outcomeCells(summary), range(wall), range(summary.identityDelayMs)];
      console.log(table([...header, 'entry → identity event, wall ms', 'video ms'], [row]));
      const step = Math.max(1, Math.ceil(watched.rss.length / 12));
      const samples = watched.rss.filter((_, i) => i % step === 0 || i === watched.rss.length - 1);
      console.log(`RSS (MB) over time: ${samples.map((sample) => `${sample.seconds} s ${fixed(sample.mb, 0)}`).join(', ')}; peak ${fixed(peak, 0)} MB`);
    } finally {
      served.close();
    }
  }
} finally {
  await facedb.close();
  await rm(work, { recursive: true, force: true });
}
await writeReport('video.json', JSON.stringify(report, null, 2));
console.log(`\nwrote bench/out/video.json`);
