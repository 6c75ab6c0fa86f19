/**
 * Load benchmark of the HTTP server: `facedb serve` in a child process on loopback, a gallery of a few
 * dozen LFW people enrolled through the API, then N concurrent clients posting real photos of those
 * people to /v1/identify for a fixed time. Reports throughput, latency percentiles, errors (503
 * overloaded counted apart: they are the back-pressure working), and the server's RSS.
 *
 * With --engine faceapi,onnx (default: both) one server per engine runs in turn (FACEDB_ENGINE), so the engines
 * are compared side by side; the server's RSS is read from /proc every 250 ms for its peak.
 *
 * With --attributes all,none (default: all) each engine also runs with identify's `attributes` field set to none
 * (names only: no emotion, age or gender net runs), and the report ends with each engine's throughput over the
 * faceapi engine's (v4) with every attribute (at each client count), the ratios being steadier than absolute figures on a
 * shared machine.
 *
 *   npm run bench:load -- [--engine faceapi,onnx] [--clients 16,64] [--seconds 20] [--people 40] [--workers N] [--attributes all,none]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LFW_SUBSET, tempDir } from '../test/fixtures.js';
import { lfwPeople, machine, mb, numberList, numberOption, percentile, sleep, writeReport } from './common.js';
import { memoryOf, RssWatch, startServeProcess, type ServeProcess } from './serve-process.js';
import { engineList } from './engines.js';

const KEY = 'bench-load-admin-key-0001';
const HOST = '127.0.0.1';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '16,64' },
    seconds: { type: 'string', default: '20' },
    people: { type: 'string', default: '40' },
    workers: { type: 'string' },
    engine: { type: 'string' },
    attributes: { type: 'string', default: 'all' },
  },
});
const attributeSettings = values.attributes.split(',').map((word) => word.trim());
if (attributeSettings.some((word) => word !== 'all' && word !== 'none')) throw new Error('--attributes: all, none or all,none');
const engines = engineList(values.engine);
const clientCounts = numberList(values.clients, 'clients', 256);
const seconds = numberOption(values.seconds, 'seconds', 300, false)!;
const peopleWanted = numberOption(values.people, 'people', 200)!;

const auth = { authorization: `Bearer ${KEY}` };

function startServer(db: string, engine: string): Promise<ServeProcess> {
  return startServeProcess(db, HOST, { FACEDB_API_KEYS: `admin:${KEY}`, FACEDB_ENGINE: engine, ...(values.workers ? { FACEDB_WORKERS: values.workers } : {}) });
}

async function api<T>(url: string, init: RequestInit): Promise<T> {
  const response = await fetch(url, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** People with two or more photos: the first is enrolled, the others are the probes. */
async function enrollGallery(url: string): Promise<Buffer[]> {
  const probes: Buffer[] = [];
  for (const { person: name, files } of (await lfwPeople()).filter((p) => p.files.length >= 2).slice(0, peopleWanted)) {
    const person = await api<{ id: number }>(`${url}/v1/people`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: name.replaceAll('_', ' ') }),
    });
    const body = new FormData();
    body.append('image', new Blob([await readFile(join(LFW_SUBSET, name, files[0] ?? ''))]), files[0]);
    await api(`${url}/v1/people/${person.id}/faces`, { method: 'POST', body });
    for (const file of files.slice(1, 4)) probes.push(await readFile(join(LFW_SUBSET, name, file)));
  }
  return probes;
}

interface Result {
  engine: string;
  attributes: string;
  clients: number;
  seconds: number;
  ok: number;
  overloaded: number;
  errors: number;
  latencies: number[];
  rssBefore: number;
  rssAfter: number;
  rssPeak: number;
}

async function run({ url, pid }: ServeProcess, probes: Buffer[], clients: number, duration = seconds, attributes = 'all'): Promise<Result> {
  const rssBefore = memoryOf(pid).rss;
  const latencies: number[] = [];
  let ok = 0;
  let overloaded = 0;
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + duration * 1000;
  const client = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const probe = probes[next++ % probes.length] as Buffer;
      const body = new FormData();
      body.append('image', new Blob([probe]), 'probe.jpg');
      if (attributes === 'none') body.append('attributes', 'none');
      const t0 = performance.now();
      try {
        const response = await fetch(`${url}/v1/identify`, { method: 'POST', body, headers: auth });
        await response.arrayBuffer();
        if (response.status === 200) {
          ok += 1;
          latencies.push(performance.now() - t0);
        } else if (response.status === 503) {
          overloaded += 1;
          // Honour Retry-After, as a well-behaved client would.
          await sleep(Math.min(Number(response.headers.get('retry-after') ?? 1) * 1000, deadline - performance.now()));
        } else {
          errors += 1;
        }
      } catch {
        errors += 1;
      }
    }
  };
  const watch = new RssWatch(pid).start();
  await Promise.all(Array.from({ length: clients }, client)); // a client counts its failures, it does not throw
  const elapsed = (performance.now() - started) / 1000;
  const rssPeak = watch.stop();
  return { engine: '', attributes, clients, seconds: elapsed, ok, overloaded, errors, latencies, rssBefore, rssAfter: memoryOf(pid).rss, rssPeak };
}

/** Each run's throughput over engine v4's (faceapi; else the first engine's) with every attribute, same client count. */
function ratioLines(results: readonly Result[]): string[] {
  const baseEngine = engines.find((name) => name === 'faceapi') ?? engines[0];
  if (engines.length < 2 || baseEngine === undefined) return [];
  const rate = (r: Result): number => r.ok / r.seconds;
  const lines = [`Throughput over ${baseEngine} with every attribute, same run:`, ''];
  for (const r of results) {
    if (r.engine === baseEngine && r.attributes === 'all') continue;
    const base = results.find((b) => b.engine === baseEngine && b.attributes === 'all' && b.clients === r.clients);
    if (base) lines.push(`- ${r.engine}, attributes ${r.attributes}, ${r.clients} clients: **${(rate(r) / rate(base)).toFixed(2)}×**`);
  }
  return [...lines, ''];
}

const sections: string[] = [];
const everyResult: Result[] = [];
for (const engine of engines) {
  const dir = await tempDir('facedb-bench-load-');
  const server = await startServer(join(dir, 'gallery.sqlite'), engine);
  try {
    console.error(`${engine}: server at ${server.url}; enrolling ${peopleWanted} people…`);
    const probes = await enrollGallery(server.url);
    console.error(`${probes.length} probe photos; warming up…`);
    await run(server, probes, 2, 3);
    const results: Result[] = [];
    for (const attributes of attributeSettings) {
      for (const clients of clientCounts) {
        console.error(`${engine}: ${clients} clients for ${seconds} s, attributes ${attributes}…`);
        results.push({ ...(await run(server, probes, clients, seconds, attributes)), engine });
      }
    }
    everyResult.push(...results);
    const rows = results.map((r) => {
      const ms = (p: number): string => percentile(r.latencies, p).toFixed(0);
      return `| ${engine} | ${r.attributes} | ${r.clients} | ${r.seconds.toFixed(1)} | ${r.ok} | ${(r.ok / r.seconds).toFixed(1)} | ${ms(0.5)} | ${ms(0.95)} | ${ms(0.99)} | ${r.errors} | ${r.overloaded} | ${mb(r.rssBefore)} → ${mb(r.rssAfter)} (peak ${mb(r.rssPeak)}) |`;
    });
    sections.push(...rows);
    if (results.some((r) => r.errors > 0)) process.exitCode = 1;
  } finally {
    const code = await server.stop();
    if (code !== 0) {
      console.error(`${engine}: server exited with ${code}`);
      process.exitCode = 1;
    }
  }
}
const report = [
  `# facedb load benchmark`,
  '',
  `POST /v1/identify (multipart) on loopback; gallery of ${peopleWanted} LFW people (one photo each), probes: up to three other photos of each (250×250 JPEG).`,
  `Machine: ${machine()}; server workers: ${values.workers ?? 'default (one per core)'}; engines: ${engines.join(', ')} (FACEDB_ENGINE).`,
  `Latency of answered (200) requests; 503 overloaded are the bounded queue refusing work (clients then wait Retry-After), counted apart from errors.`,
  '',
  '| engine | attributes | clients | seconds | requests ok | throughput (req/s) | p50 ms | p95 ms | p99 ms | errors | 503 overloaded | server RSS before → after (peak) |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...sections,
  '',
  ...ratioLines(everyResult),
].join('\n');
console.log(report);
await writeReport('load.md', report);
