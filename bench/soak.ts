/**
 * Soak benchmark of the HTTP server: `facedb serve` in a child process on loopback, then
 *
 * 1. bursts: `--burst` clients at once each post a near-limit photo (7000×7000 PNG, 49 MP, just under the
 *    50 MP default) to /v1/identify; the server must answer 200 or 503 and stay under a bounded RSS;
 * 2. issue 16's attacks: a burst of near-limit photos on every photo route (identify, analyze, detect, represent,
 *    verify, enroll, /v1/faces), a long JSON image array (60,000 and 2 M items) on both enroll routes, 20 MB of
 *    nested JSON; bursts and attacks each run with a concurrent /healthz poller (its longest answer is the longest
 *    event-loop stall);
 * 3. the soak: `--clients` clients for `--seconds`, each picking at random (seeded) between identify,
 *    enroll (create a person and add a photo), delete (one of its own people) and hostile requests:
 *    broken multipart framing, wrong keys (sent from 127.0.1.2, so the failed-key limit blocks that
 *    address and not the honest clients on 127.0.0.1), a read key on admin routes, cross-site requests
 *    without a key, and near-limit photos.
 *
 * Every answer is checked against what its kind may get (e.g. identify: 200 or 503; framing: 400; wrong
 * key: 401 or 429); anything else, and any network error, is an error. Server RSS is read from
 * /proc/<pid>/status every 250 ms: start, peak (VmHWM) and end, and one sample per 10 s.
 *
 *   npm run bench:soak -- [--clients 64] [--seconds 60] [--burst 16,48] [--people 20] [--workers N]
 */
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { seededRandom } from '../test/fixtures.js';
import { machine, mb, numberList, numberOption, percentile, sleep, writeReport } from './common.js';
import { enrollGallery, idOf, json, keepBusy, memoryOf, multipart, watchRss, withServer, type Answer, type HttpClient, type Person } from './http.js';

const ADMIN = 'bench-soak-admin-key-0001';
const READ = 'bench-soak-read-key-00001';
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
const burstSizes = numberList(values.burst, 'burst', 128);
const peopleWanted = numberOption(values.people, 'people', 200)!;

const admin = { authorization: `Bearer ${ADMIN}` };
const reader = { 'x-api-key': READ };

/** A 7000×7000 PNG (49 MP, under the 50 MP default) with a real face in it: small on the wire, huge decoded. */
async function nearLimitPhoto(face: Buffer): Promise<Buffer> {
  const inset = await sharp(face).resize(1000, 1000).png().toBuffer();
  return sharp({ create: { width: 7000, height: 7000, channels: 3, background: '#7a8a99' } })
    .composite([{ input: inset, left: 3000, top: 2500 }])
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/**
 * Parts 1 and 2 above, measured alike: the server's RSS before, at the peak and after, and /healthz polled every 20 ms
 * (a poll that fails is a crash or a refused connection, an error).
 */
async function bursts(http: HttpClient, pid: number, nearLimit: Buffer, face: Buffer): Promise<{ lines: string[]; errors: number }> {
  const lines: string[] = [];
  let errors = 0;
  /** `requests` copies of `send` at once, each answer one of `expected`; RSS read again `settleMs` after the last. */
  const measure = async (label: string, name: string, requests: number, expected: number[], send: () => Promise<Answer>, settleMs = 0) => {
    const before = memoryOf(pid).rss;
    const stopWatch = watchRss(pid);
    const health = { longestMs: 0, polls: 0, failures: 0, running: true };
    const polling = (async () => {
      while (health.running) {
        const t0 = performance.now();
        const answer = await http.send('GET', '/healthz', {});
        health.longestMs = Math.max(health.longestMs, performance.now() - t0);
        health.polls += 1;
        if (answer.status !== 200) health.failures += 1;
        await sleep(20);
      }
    })();
    const t0 = performance.now();
    const answers = await Promise.all(Array.from({ length: requests }, send));
    const took = (performance.now() - t0) / 1000;
    health.running = false;
    await polling;
    await sleep(settleMs);
    const peak = stopWatch();
    const failures = answers.filter((answer) => !expected.includes(answer.status)).length + health.failures;
    errors += failures;
    const statuses = new Map<number, number>();
    for (const { status } of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    const after = settleMs > 0 ? `${settleMs / 1000} s later` : 'after';
    const line =
      `${name}: ${[...statuses].map(([status, n]) => `${n}× ${status}`).join(', ')} in ${took.toFixed(1)} s; ` +
      `server RSS ${mb(before)} before → peak ${mb(peak)} → ${mb(memoryOf(pid).rss)} ${after}; ` +
      `longest /healthz ${health.longestMs.toFixed(0)} ms over ${health.polls} polls; ${failures} errors`;
    console.error(line);
    lines.push(`**${label}:** ${line}.`);
  };
  const png = `7000×7000 PNG (${(nearLimit.length / 1024).toFixed(0)} KB)`;
  const photo = multipart({ image: nearLimit });
  for (const count of burstSizes) {
    await measure('Burst', `${count} concurrent ${png} identifies`, count, [200, 503], () => http.send('POST', '/v1/identify', reader, photo), 2000);
  }
  const id = idOf(await http.send('POST', '/v1/people', admin, json({ name: 'Attack target' })));
  // Bodies are built before their attack starts: building them would stall this process's own /healthz poller.
  const longArrays = [60_000, 2_000_000].map((items) => ({ items, bytes: `{"image":[${Array<string>(items).fill('""').join(',')}]}` }));
  const nested = { type: 'application/json', bytes: `{"image":${'['.repeat(20 * 1024 * 1024 - 10)}` };
  for (const { items, bytes } of longArrays) {
    for (const path of ['/v1/faces', `/v1/people/${id}/faces`]) {
      const name = `{"image": ["", …${items.toLocaleString('en')} items]} (${(bytes.length / 1024).toFixed(0)} KB) on ${path}`;
      await measure('Attack', name, 1, [400], () => http.send('POST', path, admin, { type: 'application/json', bytes }));
    }
  }
  await measure('Attack', '20 MB of nested JSON arrays on /v1/identify', 1, [400, 413], () => http.send('POST', '/v1/identify', reader, nested));
  const size = burstSizes[0] ?? 16;
  const onPhotoRoute = (path: string, headers: Record<string, string>, form = photo) =>
    measure('Attack', `${size}× ${png} on ${path}`, size, [200, 503], () => http.send('POST', path, headers, form));
  for (const route of ['identify', 'analyze', 'detect', 'represent']) await onPhotoRoute(`/v1/${route}`, reader);
  await onPhotoRoute('/v1/verify', reader, multipart({ image_a: nearLimit, image_b: face }));
  await onPhotoRoute(`/v1/people/${id}/faces`, admin);
  await onPhotoRoute('/v1/faces', admin);
  return { lines, errors };
}

const pick = <T>(client: { random: () => number }, items: readonly T[]): T => items[Math.floor(client.random() * items.length)] as T;

/** What one soak client keeps between its requests: `own` are the people it created, for it to delete. */
const newClient = (index: number) => ({ index, random: seededRandom(SEED + index), own: [] as number[], serial: 0 });
type SoakClient = ReturnType<typeof newClient>;

interface RequestKind {
  /** Its share of the mix. */
  weight: number;
  /** The statuses it may be answered; anything else, or a network failure, is an error. */
  expected: readonly number[];
  send: (client: SoakClient) => Promise<Answer>;
}

/**
 * The kinds of request in the soak. 503 is the admission cap (it refuses any photo route before reading the body,
 * broken or not), 429 the failed-key limit.
 */
function requestKinds(http: HttpClient, people: Person[], nearLimit: Buffer) {
  const probes = people.flatMap((person) => person.photos.slice(1));
  const identify = (photo: Buffer): Promise<Answer> => http.send('POST', '/v1/identify', reader, multipart({ image: photo }));
  /** Creates a person and adds a photo of them. */
  const enroll = async (client: SoakClient): Promise<Answer> => {
    const person = pick(client, people);
    const created = await http.send('POST', '/v1/people', admin, json({ name: `${person.name} soak ${client.index}.${client.serial++}` }));
    if (created.status !== 201) return created;
    client.own.push(idOf(created));
    return http.send('POST', `/v1/people/${idOf(created)}/faces`, admin, multipart({ image: pick(client, person.photos) }));
  };
  const deleteOwn = (client: SoakClient): Promise<Answer> => {
    const id = client.own.splice(Math.floor(client.random() * client.own.length), 1)[0] ?? 0;
    return http.send('DELETE', `/v1/people/${id}`, admin);
  };
  const badFraming = (client: SoakClient): Promise<Answer> => {
    const form = multipart({ image: pick(client, probes) });
    const broken = pick(client, [
      { type: form.type, bytes: form.bytes.subarray(0, Math.floor(form.bytes.length / 2)) }, // truncated
      { type: 'multipart/form-data', bytes: form.bytes }, // no boundary
      { type: 'multipart/form-data; boundary=not-the-one', bytes: form.bytes }, // wrong boundary
    ]);
    return http.send('POST', '/v1/identify', reader, broken);
  };
  const wrongKey = (client: SoakClient) => ({ 'x-api-key': `wrong-key-${client.index}-${client.serial++}-0000000` });
  const crossSite = { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' };
  return {
    identify: { weight: 47, expected: [200, 503], send: (client) => identify(pick(client, probes)) },
    enroll: { weight: 10, expected: [200, 201, 503], send: enroll },
    delete: { weight: 8, expected: [200], send: deleteOwn },
    near_limit_photo: { weight: 2, expected: [200, 503], send: () => identify(nearLimit) },
    bad_framing: { weight: 9, expected: [400, 503], send: badFraming },
    wrong_key: { weight: 9, expected: [401, 429], send: (client) => http.send('GET', '/v1/people', wrongKey(client), undefined, HOSTILE_ADDRESS) },
    wrong_scope: { weight: 8, expected: [403], send: (client) => http.send('DELETE', `/v1/people/${1 + Math.floor(client.random() * people.length)}`, reader) },
    cross_site_no_key: { weight: 7, expected: [401], send: () => http.send('POST', '/v1/people', crossSite, json({ name: 'Bono' })) },
  } satisfies Record<string, RequestKind>;
}

/** Part 3 above (delete turns into enroll while the client has no people of its own): the report's soak lines and table. */
async function soak(http: HttpClient, pid: number, people: Person[], nearLimit: Buffer): Promise<{ lines: string[]; errors: number }> {
  const kinds = requestKinds(http, people, nearLimit);
  const mix: Array<[string, RequestKind]> = Object.entries(kinds);
  // Each kind `weight` times: a uniform draw from the deck is a draw by weight.
  const deck = mix.flatMap((entry) => Array.from({ length: entry[1].weight }, () => entry));
  const clientRequests = (index: number) => {
    const client = newClient(index);
    return () => {
      let [name, kind] = pick(client, deck);
      if (name === 'delete' && client.own.length === 0) [name, kind] = ['enroll', kinds.enroll];
      return { kind: name, expected: kind.expected, send: () => kind.send(client) };
    };
  };
  const run = await keepBusy(pid, clients, seconds, Object.keys(kinds), clientRequests);
  await sleep(5000);
  const settled = memoryOf(pid).rss;
  let errors = 0;
  let deliberate = 0;
  let overloaded = 0;
  const rows = mix.map(([name, kind]) => {
    const tally = run.tallies.get(name)!;
    errors += tally.unexpected;
    // Hostile kinds: every answer they may get is a refusal.
    const hostile = kind.expected.every((status) => status >= 400);
    if (hostile) {
      for (const [status, n] of tally.byStatus) if (status >= 400 && status < 500 && kind.expected.includes(status)) deliberate += n;
    }
    overloaded += tally.byStatus.get(503) ?? 0;
    const ms = (p: number): string => (hostile || tally.latencies.length === 0 ? '–' : percentile(tally.latencies, p).toFixed(0));
    const statuses = [...tally.byStatus].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`).join(', ');
    const note = tally.firstUnexpected ? ` (first unexpected: ${tally.firstUnexpected.replaceAll('|', '/')})` : '';
    return `| ${name} | ${tally.count} | ${statuses}${note} | ${ms(0.5)} | ${ms(0.99)} | ${tally.unexpected} |`;
  });
  const requests = [...run.tallies.values()].reduce((sum, tally) => sum + tally.count, 0);
  const { start, peak, end, series } = run.rss;
  const lines = [
    `**Soak:** ${clients} clients for ${run.seconds.toFixed(1)} s: ${requests} requests, ${errors} errors (answers outside what each kind may get, ` +
      `or network failures), ${deliberate} deliberate 4xx to hostile requests, ${overloaded} 503 overloaded (back-pressure).`,
    `Server RSS: ${mb(start)} at start → peak ${mb(peak)} → ${mb(end)} at the end, ${mb(settled)} 5 s after; VmHWM since start ${mb(memoryOf(pid).peak)}.`,
    `RSS every 10 s: ${series.join(', ')}.`,
    '',
    '| kind | requests | statuses | p50 ms | p99 ms | unexpected |',
    '| --- | ---: | --- | ---: | ---: | ---: |',
    ...rows,
    '',
    'p50/p99: answered (2xx) requests of that kind; enroll counts creating the person and adding the photo.',
  ];
  return { lines, errors };
}

await withServer({ FACEDB_API_KEYS: `admin:${ADMIN},read:${READ}` }, values.workers, async (http, pid) => {
  console.error(`enrolling ${peopleWanted} people…`);
  const people = await enrollGallery(http, admin, peopleWanted, 3);
  const face = people[0]?.photos[0] ?? Buffer.alloc(0);
  const nearLimit = await nearLimitPhoto(face);
  console.error(`gallery ready; server RSS ${mb(memoryOf(pid).rss)}`);
  const burstResults = await bursts(http, pid, nearLimit, face);
  const soakResults = await soak(http, pid, people, nearLimit);
  const report = [
    '# facedb soak benchmark',
    '',
    `Machine: ${machine()}; server workers: ${values.workers ?? 'default (one per core)'}; default limits (FACEDB_MAX_QUEUE 32, FACEDB_MAX_IMAGE_SIDE 2048, FACEDB_MAX_PIXELS 50 MP).`,
    `Gallery: ${people.length} LFW people enrolled through the API; probes: their other photos (250×250 JPEG).`,
    '',
    ...burstResults.lines.flatMap((line) => [line, '']),
    ...soakResults.lines,
    '',
  ].join('\n');
  console.log(report);
  await writeReport('soak.md', report);
  if (burstResults.errors + soakResults.errors > 0) process.exitCode = 1;
});
