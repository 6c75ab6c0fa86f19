/**
 * Soak benchmark of the HTTP server: `facedb serve` in a child process on loopback, then
 *
 * 1. bursts: `--burst` clients at once each post a near-limit photo (7000×7000 PNG, 49 MP, just under the
 *    50 MP default) to /v1/identify; the server must answer 200 or 503 and stay under a bounded RSS;
 * 2. the soak: `--clients` clients for `--seconds`, each picking at random (seeded) between identify,
 *    enroll (create a person and add a photo), delete (one of its own people) and hostile requests:
 *    broken multipart framing, wrong keys (sent from 127.0.0.2, so the failed-key limit blocks that
 *    address and not the honest clients on 127.0.0.1), a read key on admin routes, cross-site requests
 *    without a key, and near-limit photos.
 *
 * Then issue 16's attacks, each with a concurrent /healthz poller (its longest answer is the longest event-loop
 * stall): a burst of near-limit photos on every photo route (identify, analyze, detect, represent, verify,
 * enroll, /v1/faces), a long JSON image array (60,000 and 2 M items) on both enroll routes, 20 MB of nested JSON.
 *
 * Every answer is checked against what its kind may get (e.g. identify: 200 or 503; framing: 400; wrong
 * key: 401 or 429); anything else, and any network error, is an error. Server RSS is read from
 * /proc/<pid>/status every 250 ms: start, peak (VmHWM) and end, and one sample per 10 s.
 *
 *   npm run bench:soak -- [--clients 64] [--seconds 60] [--burst 16,48] [--people 20] [--workers N]
 */
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { LFW_SUBSET, seededRandom, tempDir } from '../test/fixtures.js';
import { lfwPeople, machine, mb, numberList, numberOption, percentile, sleep, writeReport } from './common.js';
import { memoryOf, RssWatch, startServeProcess, type ServeProcess } from './serve-process.js';

const ADMIN = 'bench-soak-admin-key-0001';
const READ = 'bench-soak-read-key-00001';
const HOST = '127.0.0.1';
/** Wrong keys come from another loopback network (limits count a /24): the failed-key limit then blocks that one only. */
const HOSTILE_ADDRESS = '127.0.1.2';
const SEED = 20261130;

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '60' },
    burst: { type: 'string', default: '16,48' },
    people: { type: 'string', default: '20' },
    workers: { type: 'string' },
  },
});
const clients = numberOption(values.clients, 'clients', 256)!;
const seconds = numberOption(values.seconds, 'seconds', 600, false)!;
const bursts = numberList(values.burst, 'burst', 128);
const peopleWanted = numberOption(values.people, 'people', 200)!;

// ---------------------------------------------------------------- HTTP

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

const agents = new Map<string, Agent>();
function agentFor(localAddress: string): Agent {
  let agent = agents.get(localAddress);
  if (!agent) {
    agent = new Agent({ keepAlive: true, maxSockets: 256, localAddress });
    agents.set(localAddress, agent);
  }
  return agent;
}

let baseUrl = '';

/** One request over node:http (raw bodies, a chosen source address); a network failure is status 0. */
function send(method: string, path: string, headers: Record<string, string>, body?: Buffer | string, from = HOST): Promise<Answer> {
  return new Promise((resolve) => {
    const url = new URL(path, baseUrl);
    const req = request(url, { method, headers, agent: agentFor(from) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
      res.on('error', (error) => resolve({ status: 0, body: error.message, headers: {} }));
    });
    req.on('error', (error) => resolve({ status: 0, body: error.message, headers: {} }));
    req.end(body);
  });
}

const admin = { authorization: `Bearer ${ADMIN}` };
const reader = { 'x-api-key': READ };

function multipart(files: Array<{ field: string; bytes: Buffer }>, boundary = `soak${Math.random().toString(36).slice(2)}`) {
  const chunks: Buffer[] = [];
  for (const { field, bytes } of files) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="photo"\r\nContent-Type: application/octet-stream\r\n\r\n`));
    chunks.push(bytes, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

// ---------------------------------------------------------------- server and its memory

async function startServer(db: string): Promise<ServeProcess> {
  const server = await startServeProcess(db, HOST, {
    FACEDB_API_KEYS: `admin:${ADMIN},read:${READ}`,
    ...(values.workers ? { FACEDB_WORKERS: values.workers } : {}),
  });
  baseUrl = server.url;
  return server;
}

// ---------------------------------------------------------------- data

async function galleryPeople(): Promise<Array<{ name: string; photos: Buffer[] }>> {
  const chosen = (await lfwPeople()).filter(({ files }) => files.length >= 3).slice(0, peopleWanted);
  return Promise.all(chosen.map(async ({ person, files }) => ({ name: person, photos: await Promise.all(files.slice(0, 4).map((file) => readFile(join(LFW_SUBSET, person, file)))) })));
}

/** A 7000×7000 PNG (49 MP, under the 50 MP default) with a real face in it: small on the wire, huge decoded. */
async function nearLimitPhoto(face: Buffer): Promise<Buffer> {
  const inset = await sharp(face).resize(1000, 1000).png().toBuffer();
  return sharp({ create: { width: 7000, height: 7000, channels: 3, background: '#7a8a99' } })
    .composite([{ input: inset, left: 3000, top: 2500 }])
    .png({ compressionLevel: 9 })
    .toBuffer();
}

// ---------------------------------------------------------------- the mix

type Kind =
  | 'identify'
  | 'enroll'
  | 'delete'
  | 'near_limit_photo'
  | 'bad_framing'
  | 'wrong_key'
  | 'wrong_scope'
  | 'cross_site_no_key';

/**
 * What each kind may be answered; 503 is the admission cap (it refuses any photo route before reading the
 * body, broken or not), 429 the failed-key limit.
 */
const EXPECTED: Record<Kind, readonly number[]> = {
  identify: [200, 503],
  enroll: [200, 201, 503],
  delete: [200],
  near_limit_photo: [200, 503],
  bad_framing: [400, 503],
  wrong_key: [401, 429],
  wrong_scope: [403],
  cross_site_no_key: [401],
};
/** Hostile kinds: every answer they may get is a refusal. */
const isDeliberate = (kind: Kind): boolean => EXPECTED[kind].every((status) => status >= 400);
const WEIGHTS: Array<[Kind, number]> = [
  ['identify', 47],
  ['enroll', 10],
  ['delete', 8],
  ['near_limit_photo', 2],
  ['bad_framing', 9],
  ['wrong_key', 9],
  ['wrong_scope', 8],
  ['cross_site_no_key', 7],
];

interface Tally {
  count: number;
  byStatus: Map<number, number>;
  unexpected: number;
  latencies: number[];
  firstUnexpected?: string;
}

/**
 * Polls /healthz every 20 ms until stopped; the longest answer is the longest the event loop was blocked
 * (a poll that fails is a crash or a refused connection, counted as an error).
 */
function healthPoller(): { stop: () => Promise<{ longestMs: number; polls: number; failures: number }> } {
  let running = true;
  let longestMs = 0;
  let polls = 0;
  let failures = 0;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      const answer = await send('GET', '/healthz', {});
      longestMs = Math.max(longestMs, performance.now() - t0);
      polls += 1;
      if (answer.status !== 200) failures += 1;
      await sleep(20);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { longestMs, polls, failures };
    },
  };
}

/**
 * Issue 16's attacks, each with a /healthz poller running: a burst of near-limit photos on every photo route,
 * a long JSON image array (60,000 and 2,000,000 items) on both enroll routes, and a 20 MB deeply nested body.
 */
async function attacks(pid: number, nearLimit: Buffer, burst: number, face: Buffer): Promise<{ lines: string[]; failed: boolean }> {
  const created = await send('POST', '/v1/people', { ...admin, 'content-type': 'application/json' }, JSON.stringify({ name: 'Attack target' }));
  const { id } = JSON.parse(created.body) as { id: number };
  const photo = (field: string, bytes = nearLimit) => multipart([{ field, bytes }]);
  const verifyForm = multipart([
    { field: 'image_a', bytes: nearLimit },
    { field: 'image_b', bytes: face },
  ]);
  const routes: Array<{ name: string; path: string; headers: Record<string, string>; form: { body: Buffer; type: string } }> = [
    ...['identify', 'analyze', 'detect', 'represent'].map((name) => ({ name, path: `/v1/${name}`, headers: reader, form: photo('image') })),
    { name: 'verify', path: '/v1/verify', headers: reader, form: verifyForm },
    { name: 'enroll', path: `/v1/people/${id}/faces`, headers: admin, form: photo('image') },
    { name: 'faces', path: '/v1/faces', headers: admin, form: photo('image') },
  ];
  const json = { ...admin, 'content-type': 'application/json' };
  // Bodies are built before their attack starts: building them would stall this process's own /healthz poller.
  const longArrays = new Map([60_000, 2_000_000].map((items) => [items, `{"image":[${Array<string>(items).fill('""').join(',')}]}`]));
  const longArray = (items: number): string => longArrays.get(items) ?? '';
  const nested = `{"image":${'['.repeat(20 * 1024 * 1024 - 10)}`;
  const cases: Array<{ name: string; expected: number[]; run: () => Promise<Answer[]> }> = [
    ...[60_000, 2_000_000].flatMap((items) =>
      ['/v1/faces', `/v1/people/${id}/faces`].map((path) => ({
        name: `{"image": ["", …${items.toLocaleString('en')} items]} (${(longArray(items).length / 1024).toFixed(0)} KB) on ${path}`,
        expected: [400],
        run: async () => [await send('POST', path, json, longArray(items))],
      })),
    ),
    {
      name: '20 MB of nested JSON arrays on /v1/identify',
      expected: [400, 413],
      run: async () => [await send('POST', '/v1/identify', { ...reader, 'content-type': 'application/json' }, nested)],
    },
    ...routes.map((route) => ({
      name: `${burst}× 7000×7000 PNG on ${route.path}`,
      expected: [200, 503],
      run: () =>
        Promise.all(Array.from({ length: burst }, () => send('POST', route.path, { ...route.headers, 'content-type': route.form.type }, route.form.body))),
    })),
  ];
  const lines: string[] = [];
  let failed = false;
  for (const attack of cases) {
    const watch = new RssWatch(pid).start();
    const poller = healthPoller();
    const t0 = performance.now();
    const answers = await attack.run();
    const took = (performance.now() - t0) / 1000;
    const health = await poller.stop();
    const peak = watch.stop();
    const statuses = new Map<number, number>();
    for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    const errors = answers.filter((answer) => !attack.expected.includes(answer.status)).length + health.failures;
    if (errors > 0) failed = true;
    const line =
      `${attack.name}: ${[...statuses].map(([status, n]) => `${n}× ${status}`).join(', ')} in ${took.toFixed(1)} s; ` +
      `peak RSS ${mb(peak)}; longest /healthz ${health.longestMs.toFixed(0)} ms over ${health.polls} polls; ${errors} errors`;
    console.error(line);
    lines.push(line);
  }
  return { lines, failed };
}

async function main(): Promise<void> {
  const dir = await tempDir('facedb-bench-soak-');
  const people = await galleryPeople();
  const nearLimit = await nearLimitPhoto(people[0]?.photos[0] ?? Buffer.alloc(0));
  const server = await startServer(join(dir, 'gallery.sqlite'));
  const report: string[] = [];
  const rssSeries: string[] = [];
  let failed = false;
  try {
    console.error(`server at ${baseUrl} (pid ${server.pid}); enrolling ${people.length} people…`);
    for (const person of people) {
      const created = await send('POST', '/v1/people', { ...admin, 'content-type': 'application/json' }, JSON.stringify({ name: person.name }));
      const { id } = JSON.parse(created.body) as { id: number };
      const form = multipart([{ field: 'image', bytes: person.photos[0] ?? Buffer.alloc(0) }]);
      const enrolled = await send('POST', `/v1/people/${id}/faces`, { ...admin, 'content-type': form.type }, form.body);
      if (enrolled.status !== 200) throw new Error(`enrolling ${person.name}: ${enrolled.status} ${enrolled.body}`);
    }
    const probes = people.flatMap((person) => person.photos.slice(1));
    const idle = memoryOf(server.pid).rss;
    console.error(`gallery ready; server RSS ${mb(idle)}`);

    // ---- 1. bursts of near-limit photos
    const burstLines: string[] = [];
    for (const burst of bursts) {
      const before = memoryOf(server.pid).rss;
      const watch = new RssWatch(server.pid).start();
      const form = multipart([{ field: 'image', bytes: nearLimit }]);
      const t0 = performance.now();
      const answers = await Promise.all(
        Array.from({ length: burst }, () => send('POST', '/v1/identify', { ...reader, 'content-type': form.type }, form.body)),
      );
      const took = (performance.now() - t0) / 1000;
      await sleep(2000);
      const peak = watch.stop();
      const after = memoryOf(server.pid).rss;
      const statuses = new Map<number, number>();
      for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const unexpected = answers.filter((answer) => answer.status !== 200 && answer.status !== 503);
      if (unexpected.length > 0) failed = true;
      const burstLine =
        `${burst} concurrent 7000×7000 PNG identifies (${(nearLimit.length / 1024).toFixed(0)} KB each): ` +
        `${[...statuses].map(([status, n]) => `${n}× ${status}`).join(', ')} in ${took.toFixed(1)} s; ` +
        `server RSS ${mb(before)} before → peak ${mb(peak)} → ${mb(after)} 2 s later`;
      console.error(burstLine);
      burstLines.push(burstLine);
    }

    // ---- 2. attacks on every photo route, and hostile JSON, with /healthz polled throughout
    const attackLines = await attacks(server.pid, nearLimit, bursts[0] ?? 16, people[0]?.photos[0] ?? Buffer.alloc(0));
    if (attackLines.failed) failed = true;

    // ---- 3. soak
    const tallies = new Map<Kind, Tally>(WEIGHTS.map(([kind]) => [kind, { count: 0, byStatus: new Map(), unexpected: 0, latencies: [] }]));
    const totalWeight = WEIGHTS.reduce((sum, [, w]) => sum + w, 0);
    const startRss = memoryOf(server.pid).rss;
    const watch = new RssWatch(server.pid).start();
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const sampler = setInterval(() => {
      rssSeries.push(`${Math.round((performance.now() - started) / 1000)} s: ${mb(memoryOf(server.pid).rss)}`);
    }, 10_000);

    const client = async (index: number): Promise<void> => {
      const random = seededRandom(SEED + index);
      const own: number[] = [];
      let serial = 0;
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
      while (performance.now() < deadline) {
        let roll = random() * totalWeight;
        let kind: Kind = 'identify';
        for (const [candidate, weight] of WEIGHTS) {
          roll -= weight;
          if (roll < 0) {
            kind = candidate;
            break;
          }
        }
        if (kind === 'delete' && own.length === 0) kind = 'enroll';
        const t0 = performance.now();
        let answer: Answer;
        switch (kind) {
          case 'identify': {
            const form = multipart([{ field: 'image', bytes: pick(probes) }]);
            answer = await send('POST', '/v1/identify', { ...reader, 'content-type': form.type }, form.body);
            break;
          }
          case 'near_limit_photo': {
            const form = multipart([{ field: 'image', bytes: nearLimit }]);
            answer = await send('POST', '/v1/identify', { ...reader, 'content-type': form.type }, form.body);
            break;
          }
          case 'enroll': {
            const person = pick(people);
            const created = await send(
              'POST',
              '/v1/people',
              { ...admin, 'content-type': 'application/json' },
              JSON.stringify({ name: `${person.name} soak ${index}.${serial++}` }),
            );
            if (created.status !== 201) {
              answer = created;
              break;
            }
            const { id } = JSON.parse(created.body) as { id: number };
            own.push(id);
            const form = multipart([{ field: 'image', bytes: pick(person.photos) }]);
            answer = await send('POST', `/v1/people/${id}/faces`, { ...admin, 'content-type': form.type }, form.body);
            break;
          }
          case 'delete': {
            const id = own.splice(Math.floor(random() * own.length), 1)[0] ?? 0;
            answer = await send('DELETE', `/v1/people/${id}`, admin);
            break;
          }
          case 'bad_framing': {
            const form = multipart([{ field: 'image', bytes: pick(probes) }]);
            const broken = pick([
              { type: form.type, body: form.body.subarray(0, Math.floor(form.body.length / 2)) }, // truncated
              { type: 'multipart/form-data', body: form.body }, // no boundary
              { type: 'multipart/form-data; boundary=not-the-one', body: form.body }, // wrong boundary
            ]);
            answer = await send('POST', '/v1/identify', { ...reader, 'content-type': broken.type }, broken.body);
            break;
          }
          case 'wrong_key':
            answer = await send('GET', '/v1/people', { 'x-api-key': `wrong-key-${index}-${serial++}-0000000` }, undefined, HOSTILE_ADDRESS);
            break;
          case 'wrong_scope':
            answer = await send('DELETE', `/v1/people/${1 + Math.floor(random() * people.length)}`, reader);
            break;
          case 'cross_site_no_key':
            answer = await send(
              'POST',
              '/v1/people',
              { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
              JSON.stringify({ name: 'Bono' }),
            );
            break;
        }
        const tally = tallies.get(kind) as Tally;
        tally.count += 1;
        tally.byStatus.set(answer.status, (tally.byStatus.get(answer.status) ?? 0) + 1);
        if (!EXPECTED[kind].includes(answer.status)) {
          tally.unexpected += 1;
          tally.firstUnexpected ??= `${answer.status} ${answer.body.slice(0, 200)}`;
        } else if (answer.status < 300) {
          tally.latencies.push(performance.now() - t0);
        }
        if (answer.status === 503) {
          // A well-behaved client waits as told.
          await sleep(Math.min(Number(answer.headers['retry-after'] ?? 1) * 1000, Math.max(0, deadline - performance.now())));
        }
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
    clearInterval(sampler);
    const elapsed = (performance.now() - started) / 1000;
    const soakPeak = watch.stop();
    const endRss = memoryOf(server.pid).rss;
    await sleep(5000);
    const settledRss = memoryOf(server.pid).rss;

    let errors = 0;
    let deliberate = 0;
    let overloaded = 0;
    const rows = WEIGHTS.map(([kind]) => {
      const tally = tallies.get(kind) as Tally;
      errors += tally.unexpected;
      if (isDeliberate(kind)) {
        for (const [status, n] of tally.byStatus) if (status >= 400 && status < 500 && EXPECTED[kind].includes(status)) deliberate += n;
      }
      overloaded += tally.byStatus.get(503) ?? 0;
      const ms = (p: number): string => (tally.latencies.length === 0 ? '–' : percentile(tally.latencies, p).toFixed(0));
      const statuses = [...tally.byStatus].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`).join(', ');
      const note = tally.firstUnexpected ? ` (first unexpected: ${tally.firstUnexpected.replaceAll('|', '/')})` : '';
      return `| ${kind} | ${tally.count} | ${statuses}${note} | ${isDeliberate(kind) ? '–' : ms(0.5)} | ${isDeliberate(kind) ? '–' : ms(0.99)} | ${tally.unexpected} |`;
    });
    if (errors > 0) failed = true;
    report.push(
      '# facedb soak benchmark',
      '',
      `Machine: ${machine()}; server workers: ${values.workers ?? 'default (one per core)'}; default limits (FACEDB_MAX_QUEUE 32, FACEDB_MAX_IMAGE_SIDE 2048, FACEDB_MAX_PIXELS 50 MP).`,
      `Gallery: ${people.length} LFW people enrolled through the API; probes: their other photos (250×250 JPEG).`,
      '',
      ...burstLines.map((line) => `**Burst:** ${line}.`),
      '',
      ...attackLines.lines.map((line) => `**Attack:** ${line}.`),
      '',
      `**Soak:** ${clients} clients for ${elapsed.toFixed(1)} s: ${[...tallies.values()].reduce((sum, t) => sum + t.count, 0)} requests, ` +
        `${errors} errors (answers outside what each kind may get, or network failures), ${deliberate} deliberate 4xx to hostile requests, ${overloaded} 503 overloaded (back-pressure).`,
      `Server RSS: ${mb(startRss)} at start → peak ${mb(soakPeak)} → ${mb(endRss)} at the end, ${mb(settledRss)} 5 s after; VmHWM since start ${mb(memoryOf(server.pid).peak)}.`,
      `RSS every 10 s: ${rssSeries.join(', ')}.`,
      '',
      '| kind | requests | statuses | p50 ms | p99 ms | unexpected |',
      '| --- | ---: | --- | ---: | ---: | ---: |',
      ...rows,
      '',
      'p50/p99: answered (2xx) requests of that kind; enroll counts creating the person and adding the photo.',
      '',
    );
    console.log(report.join('\n'));
    await writeReport('soak.md', report.join('\n'));
  } finally {
    for (const agent of agents.values()) agent.destroy();
    const code = await server.stop();
    if (code !== 0) {
      console.error(`server exited with ${code}`);
      failed = true;
    }
  }
  if (failed) process.exitCode = 1;
}

await main();
