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
import { parseArgs } from 'node:util';
import { machine, mb, numberList, numberOption, percentile, writeReport } from './common.js';
import { engineList } from './engines.js';
import { enrollGallery, keepBusy, multipart, withServer, type HttpClient } from './http.js';

const KEY = 'bench-load-admin-key-0001';

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

/** `clients` clients posting the probes in turn to /v1/identify for `duration` seconds; attributes none: names only. */
async function identifyLoad(http: HttpClient, pid: number, probes: Buffer[], clients: number, duration: number, attributes: string) {
  let next = 0;
  const fields: Record<string, string> = attributes === 'none' ? { attributes: 'none' } : {};
  const send = () => http.send('POST', '/v1/identify', auth, multipart({ image: probes[next++ % probes.length] as Buffer, ...fields }));
  const run = await keepBusy(pid, clients, duration, ['identify'], () => () => ({ kind: 'identify', expected: [200, 503], send }));
  return { ...run, tally: run.tallies.get('identify')! };
}

const rows: string[] = [];
const rates: Array<{ engine: string; attributes: string; clients: number; rate: number }> = [];
for (const engine of engines) {
  await withServer({ FACEDB_API_KEYS: `admin:${KEY}`, FACEDB_ENGINE: engine }, values.workers, async (http, pid) => {
    console.error(`${engine}: enrolling ${peopleWanted} people…`);
    // People with two or more photos: the first is enrolled, the others are the probes.
    const probes = (await enrollGallery(http, auth, peopleWanted, 2)).flatMap((person) => person.photos.slice(1));
    console.error(`${probes.length} probe photos; warming up…`);
    await identifyLoad(http, pid, probes, 2, 3, 'all');
    for (const attributes of attributeSettings) {
      for (const clients of clientCounts) {
        console.error(`${engine}: ${clients} clients for ${seconds} s, attributes ${attributes}…`);
        const { tally, seconds: took, rss } = await identifyLoad(http, pid, probes, clients, seconds, attributes);
        const ok = tally.byStatus.get(200) ?? 0;
        rates.push({ engine, attributes, clients, rate: ok / took });
        const ms = (p: number): string => percentile(tally.latencies, p).toFixed(0);
        rows.push(
          `| ${engine} | ${attributes} | ${clients} | ${took.toFixed(1)} | ${ok} | ${(ok / took).toFixed(1)} | ${ms(0.5)} | ${ms(0.95)} | ${ms(0.99)} | ` +
            `${tally.unexpected} | ${tally.byStatus.get(503) ?? 0} | ${mb(rss.start)} → ${mb(rss.end)} (peak ${mb(rss.peak)}) |`,
        );
        if (tally.unexpected > 0) process.exitCode = 1;
      }
    }
  });
}

/** Each run's throughput over engine v4's (faceapi; else the first engine's) with every attribute, same client count. */
function ratioLines(): string[] {
  const baseEngine = engines.find((name) => name === 'faceapi') ?? engines[0];
  if (engines.length < 2 || baseEngine === undefined) return [];
  const lines = [`Throughput over ${baseEngine} with every attribute, same run:`, ''];
  for (const r of rates) {
    if (r.engine === baseEngine && r.attributes === 'all') continue;
    const base = rates.find((b) => b.engine === baseEngine && b.attributes === 'all' && b.clients === r.clients);
    if (base) lines.push(`- ${r.engine}, attributes ${r.attributes}, ${r.clients} clients: **${(r.rate / base.rate).toFixed(2)}×**`);
  }
  return [...lines, ''];
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
  ...rows,
  '',
  ...ratioLines(),
].join('\n');
console.log(report);
await writeReport('load.md', report);
