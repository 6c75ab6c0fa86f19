/**
 * `facedb serve` in a child process on a free loopback port, for the HTTP benchmarks (bench:load, bench:soak):
 * started with extra environment (keys, engine, workers), found by its "listening on" line, stopped with SIGTERM;
 * its memory read from /proc.
 * BENCH_NODE_ARGS adds Node flags to the server alone, e.g. `BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"`
 * for a CPU profile of its main thread and each worker under load (NODE_OPTIONS refuses --cpu-prof).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CLI } from '../test/fixtures.js';

export interface ServeProcess {
  url: string;
  pid: number;
  /** Sends SIGTERM and resolves with the exit code once the server has drained and exited. */
  stop(): Promise<number | null>;
}

export async function startServeProcess(db: string, host: string, env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), CLI, 'serve', '--host', host, '--port', '0', '--db', db], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const found = /listening on (\S+)/.exec(stdout)?.[1];
      if (found) resolve(found);
    });
    void exited.then((code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
  return {
    url,
    pid: child.pid ?? 0,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** VmRSS and VmHWM (peak since start) of a process, in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** The highest RSS of a process between start() and stop(), sampled every 250 ms. */
export class RssWatch {
  peak = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly pid: number) {}
  start(): this {
    this.peak = memoryOf(this.pid).rss;
    this.timer = setInterval(() => {
      this.peak = Math.max(this.peak, memoryOf(this.pid).rss);
    }, 250);
    return this;
  }
  stop(): number {
    clearInterval(this.timer);
    return Math.max(this.peak, memoryOf(this.pid).rss);
  }
}
