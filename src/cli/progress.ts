/**
 * A progress line for long batch jobs on stderr: bar, count, files/s and ETA.
 * On a terminal it redraws in place; elsewhere (CI logs, pipes) it prints a line every few seconds.
 */
export class ProgressLine {
  private readonly started = performance.now();
  private lastPrinted = 0;
  /** The count the last line printed showed (off a terminal, where lines are not redrawn). */
  private lastDone = -1;
  private drawn = false;

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly label = 'files',
  ) {}

  update(done: number): void {
    const now = performance.now();
    if (this.stream.isTTY) {
      if (now - this.lastPrinted < 100 && done < this.total) return;
      this.stream.write(`\r\x1b[2K${this.render(done, now)}`);
      this.drawn = true;
    } else {
      if ((now - this.lastPrinted < 5000 && done < this.total) || done === this.lastDone) return;
      this.stream.write(`${this.render(done, now)}\n`);
      this.lastDone = done;
    }
    this.lastPrinted = now;
  }

  /** Writes a line of its own above the bar without garbling it (on a terminal, the bar is drawn again below it). */
  log(line: string, out: NodeJS.WriteStream = process.stdout): void {
    if (this.drawn && this.stream.isTTY) this.stream.write('\r\x1b[2K');
    out.write(`${line}\n`);
    this.drawn = false;
    if (this.stream.isTTY) this.lastPrinted = 0;
  }

  /** The last line: always shown (once), however recent the one before. */
  finish(done: number): void {
    this.lastPrinted = 0;
    this.update(done);
    if (this.stream.isTTY) this.stream.write('\n');
  }

  private render(done: number, now: number): string {
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const fraction = this.total > 0 ? done / this.total : 1;
    const width = 24;
    const filled = Math.round(fraction * width);
    const eta = rate > 0 ? (this.total - done) / rate : Number.NaN;
    return (
      `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${this.total} ${this.label}` +
      `  ${rate.toFixed(1)} ${this.label}/s  elapsed ${formatDuration(seconds)}  ETA ${formatDuration(eta)}`
    );
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
