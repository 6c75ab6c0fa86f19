/**
 * What the benchmarks of the built CLI share (bench:load, bench:soak, bench:queue): `facedb serve` on a new gallery
 * and `facedb worker` in child processes, their memory read from /proc; requests over node:http with raw bodies (broken
 * ones included) and a chosen source address, JSON and multipart bodies, the gallery enrolled through the API, and
 * clients keeping the server busy for a while.
 * BENCH_NODE_ARGS adds Node flags to the child processes alone, e.g. `BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"`
 * for a CPU profile of the server's main thread and each worker under load (NODE_OPTIONS refuses --cpu-prof).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { CLI, LFW_SUBSET, tempDir } from '../test/fixtures.js';
import { lfwPeople, mb, sleep } from './common.js';

/**
 * Starts `facedb <args>` and resolves once its output (stdout or stderr) matches `ready`, with the match's first
 * group; rejects with the end of its output if it exits first. stop() sends SIGTERM and resolves with the exit code
 * once the process has drained and exited.
 */
export async function startCli(args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}) {
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const found = await new Promise<string>((resolve, reject) => {
    let output = '';
    const read = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
      const match = ready.exec(output);
      if (match) resolve(match[1] ?? match[0]);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    void exited.then((code) => reject(new Error(`facedb ${args[0]} exited (${code}): ${output}`)));
  });
  const stop = (): Promise<number | null> => {
    child.kill('SIGTERM');
    return exited;
  };
  return { found, pid: child.pid ?? 0, stop };
}

/** VmRSS and VmHWM (peak since start) of a process, in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Samples a process's RSS every 250 ms until the function it returns is called, which gives the highest seen. */
export function watchRss(pid: number): () => number {
  let peak = memoryOf(pid).rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, memoryOf(pid).rss);
  }, 250);
  return () => {
    clearInterval(timer);
    return Math.max(peak, memoryOf(pid).rss);
  };
}

export interface Answer {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/** A request body with its content type. */
export interface Body {
  type: string;
  bytes: Buffer | string;
}

/** A client of the server at `baseUrl`, keeping connections alive (one agent per source address). */
export function httpClient(baseUrl: string) {
  const agents = new Map<string, Agent>();
  const agentFor = (localAddress: string): Agent => {
    const agent = agents.get(localAddress) ?? new Agent({ keepAlive: true, maxSockets: 256, localAddress });
    agents.set(localAddress, agent);
    return agent;
  };
  /** One request; a network failure is status 0 with its message as the body. `from` is the source address. */
  const send = (method: string, path: string, headers: Record<string, string>, body?: Body, from = '127.0.0.1'): Promise<Answer> =>
    new Promise((resolve) => {
      const failed = (error: Error): void => resolve({ status: 0, body: error.message, headers: {} });
      const allHeaders = body ? { ...headers, 'content-type': body.type } : headers;
      const req = request(new URL(path, baseUrl), { method, headers: allHeaders, agent: agentFor(from) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
        res.on('error', failed);
      });
      req.on('error', failed);
      req.end(body?.bytes);
    });
  return { send, close: () => agents.forEach((agent) => agent.destroy()) };
}
export type HttpClient = ReturnType<typeof httpClient>;

/**
 * Runs `work` against `facedb serve` on a new SQLite gallery on a free loopback port, its environment `env` (and
 * FACEDB_WORKERS when `workers` is given), then stops it; a server that does not exit cleanly sets exit code 1.
 */
export async function withServer(env: NodeJS.ProcessEnv, workers: string | undefined, work: (http: HttpClient, pid: number) => Promise<void>) {
  const dir = await tempDir('facedb-bench-http-');
  const db = join(dir, 'gallery.sqlite');
  const serveEnv = { ...env, ...(workers ? { FACEDB_WORKERS: workers } : {}) };
  const server = await startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--db', db], /listening on (\S+)/, serveEnv);
  const http = httpClient(server.found);
  console.error(`server at ${server.found} (pid ${server.pid})`);
  try {
    await work(http, server.pid);
  } finally {
    http.close();
    const code = await server.stop();
    if (code !== 0) {
      console.error(`server exited with ${code}`);
      process.exitCode = 1;
    }
    await rm(dir, { recursive: true, force: true });
  }
}

export const json = (value: unknown): Body => ({ type: 'application/json', bytes: JSON.stringify(value) });

/** A multipart/form-data body: a Buffer is sent as a file (a photo), a string as a plain field. */
export function multipart(parts: Record<string, Buffer | string>): Body & { bytes: Buffer } {
  const boundary = `bench${Math.random().toString(36).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const [field, value] of Object.entries(parts)) {
    const file = typeof value === 'string' ? '' : '; filename="photo"\r\nContent-Type: application/octet-stream';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="${field}"${file}\r\n\r\n`;
    chunks.push(Buffer.from(head), typeof value === 'string' ? Buffer.from(value) : value, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { type: `multipart/form-data; boundary=${boundary}`, bytes: Buffer.concat(chunks) };
}

/** The id in a created person's answer. */
export const idOf = (created: Answer): number => (JSON.parse(created.body) as { id: number }).id;

export interface Person {
  name: string;
  /** Up to four of the person's photos: the first is enrolled, the others are probes. */
  photos: Buffer[];
}

/** The first `count` LFW people with `minPhotos` photos or more, each created through the API with its first photo. */
export async function enrollGallery(http: HttpClient, headers: Record<string, string>, count: number, minPhotos: number): Promise<Person[]> {
  const people: Person[] = [];
  for (const { person, files } of (await lfwPeople()).filter((entry) => entry.files.length >= minPhotos).slice(0, count)) {
    const name = person.replaceAll('_', ' ');
    const photos = await Promise.all(files.slice(0, 4).map((file) => readFile(join(LFW_SUBSET, person, file))));
    const created = await http.send('POST', '/v1/people', headers, json({ name }));
    const photo = multipart({ image: photos[0] ?? Buffer.alloc(0) });
    const enrolled = created.status === 201 ? await http.send('POST', `/v1/people/${idOf(created)}/faces`, headers, photo) : created;
    if (enrolled.status !== 200) throw new Error(`enrolling ${name}: ${enrolled.status} ${enrolled.body}`);
    people.push({ name, photos });
  }
  return people;
}

/** A request a client sends: the kind it is counted under, the statuses it may be answered, and sending it. */
export interface Request {
  kind: string;
  expected: readonly number[];
  send: () => Promise<Answer>;
}

export interface Tally {
  count: number;
  byStatus: Map<number, number>;
  /** Answers outside `expected`, network failures included. */
  unexpected: number;
  /** Of the expected 2xx answers, in ms. */
  latencies: number[];
  firstUnexpected?: string;
}

/**
 * `clients` clients for `seconds`, each sending the requests `clientRequests(its index)` gives, one after another;
 * on a 503 a client waits as Retry-After tells it (1 s if it does not), as a well-behaved client does. Returns the
 * tally of each of `kinds`, the seconds taken, and the server's RSS at the start, its peak, at the end and every 10 s.
 */
export async function keepBusy(pid: number, clients: number, seconds: number, kinds: string[], clientRequests: (index: number) => () => Request) {
  const tallies = new Map<string, Tally>(kinds.map((kind) => [kind, { count: 0, byStatus: new Map(), unexpected: 0, latencies: [] }]));
  const rss = { start: memoryOf(pid).rss, peak: 0, end: 0, series: [] as string[] };
  const stopWatch = watchRss(pid);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const sampler = setInterval(() => {
    rss.series.push(`${Math.round((performance.now() - started) / 1000)} s: ${mb(memoryOf(pid).rss)}`);
  }, 10_000);
  const client = async (next: () => Request): Promise<void> => {
    while (performance.now() < deadline) {
      const { kind, expected, send } = next();
      const t0 = performance.now();
      const answer = await send();
      const tally = tallies.get(kind) as Tally;
      tally.count += 1;
      tally.byStatus.set(answer.status, (tally.byStatus.get(answer.status) ?? 0) + 1);
      if (!expected.includes(answer.status)) {
        tally.unexpected += 1;
        tally.firstUnexpected ??= `${answer.status} ${answer.body.slice(0, 200)}`;
      } else if (answer.status < 300) {
        tally.latencies.push(performance.now() - t0);
      }
      const retryAfterMs = Number(answer.headers['retry-after'] ?? 1) * 1000;
      if (answer.status === 503) await sleep(Math.min(retryAfterMs, Math.max(0, deadline - performance.now())));
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => client(clientRequests(i))));
  clearInterval(sampler);
  const elapsed = (performance.now() - started) / 1000;
  rss.peak = stopWatch();
  rss.end = memoryOf(pid).rss;
  return { tallies, seconds: elapsed, rss };
}
