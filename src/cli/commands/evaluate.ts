import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { FacedbError } from '../../errors/errors.js';
import { applyEvaluation, resetCalibration } from '../../services/evaluation/apply.js';
import { DEFAULT_FARS, evaluateFolder } from '../../services/evaluation/evaluate.js';
import { renderEvaluationHtml } from '../../services/evaluation/html.js';
import { IDENTIFY_DEFAULT_FAR, type FaceService } from '../../services/face-service.js';
import { print, type CliContext } from '../context.js';
import { formatApplied, formatEvaluation } from '../evaluate-text.js';
import { onInterrupt } from '../interrupt.js';
import { ProgressLine } from '../progress.js';

interface EvaluateFlags {
  json?: boolean;
  report?: string;
  far?: number[];
  apply?: boolean;
  reset?: boolean;
}

function farList(value: string): number[] {
  const fars = value.split(',').map((part) => Number(part.trim()));
  if (fars.length === 0 || fars.some((far) => !(Number.isFinite(far) && far > 0 && far < 1))) {
    throw new InvalidArgumentError('--far takes rates between 0 and 1, comma-separated (e.g. 1e-2,1e-3)');
  }
  return fars;
}

export function evaluateCommand(ctx: CliContext): Command {
  return new Command('evaluate')
    .description(
      'measure accuracy on your own labelled photos (<folder>/<Person_Name>/<photo>), find mislabelled and duplicate photos, ' +
        'and (--apply) calibrate the gallery\'s threshold for your people; the engine is --engine (global) or the gallery\'s with --apply',
    )
    .argument('[folder]', 'labelled photos in LFW layout')
    .option('--json', 'print the whole evaluation as JSON')
    .option('--report <file.html>', 'write a self-contained HTML report (curves, histograms, thumbnails of each problem)')
    .option('--far <list>', `target false-accept rates, comma-separated (default ${DEFAULT_FARS.join(',')})`, farList)
    .option('--apply', `store the operating point at --far (one rate; default ${IDENTIFY_DEFAULT_FAR}) in the gallery (--db): identify, verify and clustering use it`)
    .option('--reset', "remove the gallery's own calibration (--db): back to the engine's")
    .action(async (folder: string | undefined, flags: EvaluateFlags) => {
      if (flags.reset) {
        if (folder !== undefined || flags.apply) throw new FacedbError('invalid_input', 'give --reset alone (with --db), without a folder or --apply');
        const service = await ctx.open('existing');
        try {
          const removed = await resetCalibration(service);
          print(flags.json ? JSON.stringify({ reset: removed }) : removed ? "reset: the gallery uses its engine's calibration again" : 'the gallery had no calibration of its own');
        } finally {
          await service.close();
        }
        return;
      }
      if (folder === undefined) throw new FacedbError('invalid_input', 'give the folder of labelled photos to evaluate (or --reset)');
      if (flags.apply && (flags.far?.length ?? 1) > 1) throw new FacedbError('invalid_input', '--apply takes one --far (the operating point to store)');
      const applyFar = flags.far?.[0] ?? IDENTIFY_DEFAULT_FAR;
      // Without --apply no gallery is opened: the evaluation lives in memory only.
      const service = flags.apply ? await ctx.open('create') : await ctx.open('create', { db: ':memory:' });
      await run(service, folder, flags, applyFar);
    });
}

async function run(service: FaceService, folder: string, flags: EvaluateFlags, applyFar: number): Promise<void> {
  const interrupt = onInterrupt('finishing photos in flight, then evaluating what was embedded (Ctrl-C again to quit now)');
  let progress: ProgressLine | undefined;
  try {
    const fars = flags.apply ? [...new Set([...DEFAULT_FARS, applyFar])] : (flags.far ?? DEFAULT_FARS);
    const { report, crops } = await evaluateFolder(service, folder, {
      fars,
      signal: interrupt.signal,
      keepCrops: flags.report !== undefined,
      onPhoto: (_photo, done, total) => {
        progress ??= new ProgressLine(total, process.stderr, 'photos');
        progress.update(done);
      },
    });
    progress?.finish(report.photos.total);
    if (flags.report !== undefined) await writeFile(flags.report, renderEvaluationHtml(report, crops));
    const applied = flags.apply ? await applyEvaluation(service, report, applyFar) : undefined;
    if (flags.json) print(JSON.stringify(applied ? { ...report, applied } : report));
    else print([formatEvaluation(report), ...(flags.report ? [`report: ${flags.report}`] : []), ...(applied ? [formatApplied(applied)] : [])].join('\n'));
    if (interrupt.signal.aborted) process.exitCode = 130;
  } finally {
    interrupt.release();
    await service.close();
  }
}
