/**
 * npm run bench:evaluate — checks `facedb evaluate`'s shipped problem rules on planted errors, and measures its time
 * and memory.
 *
 * 1. A copy of ../shared/data/lfw-subset with planted errors in each half of the people (bench/evaluate-planted.ts:
 *    mislabels, identical copies, re-encoded copies; seeded), embedded once as `facedb evaluate` does.
 * 2. The shipped mislabel rule (MISLABEL_RULE) and near-duplicate ratio (NEAR_DUPLICATE_RATIO) on each half: planted
 *    errors found, and false alarms (flagged, not planted). How they were chosen among the other rules and ratios (on
 *    half A, confirmed on half B): research/evaluate-rules.ts.
 * 3. Time and peak memory: embedding (per photo) and the pair analysis on the first 25 %, 50 % and 100 % of the faces
 *    (O(n²) distances; impostor distances are kept up to MAX_IMPOSTOR_PAIRS, then sampled). The whole command's
 *    time and peak RSS: `/usr/bin/time -v node dist/cli/main.js evaluate ../shared/data/lfw-subset --json`.
 *
 * Options: --engine <name> (default onnx), --limit-people N (first N people: a quick run).
 * Writes bench/out/evaluate.md.
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { pairPass } from '../src/services/evaluation/pairs.js';
import { MISLABEL_RULE, NEAR_DUPLICATE_RATIO } from '../src/services/evaluation/problems.js';
import { mb, numberOption, writeReport } from './common.js';
import { PLANTS, withPlantedFolder } from './evaluate-planted.js';

const { values: args } = parseArgs({ options: { engine: { type: 'string', default: 'onnx' }, 'limit-people': { type: 'string' } } });
const lines: string[] = [];
const say = (line = ''): void => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};

await withPlantedFolder(args.engine, numberOption(args['limit-people'], 'limit-people'), NEAR_DUPLICATE_RATIO, (run) => {
  const { ctx, medianGenuine } = run;
  say(`# facedb evaluate on planted errors (${run.engine.model.id}@${run.engine.model.version}; identify threshold ${ctx.threshold})`);
  say();
  say(`${run.items.length} photos (${ctx.rows.length} with a face) of ${ctx.people.length} people; planted per half: ${PLANTS.mislabels} mislabels, ${PLANTS.identical} identical copies, ${PLANTS.near} re-encoded copies.`);
  say();
  say('## The shipped rules (found / planted, false alarms)');
  say('| rule | half A | half B |');
  say('| --- | --- | --- |');
  const rule = run.mislabelScores(MISLABEL_RULE);
  say(`| mislabel: ${MISLABEL_RULE} | ${rule.A.found}/${PLANTS.mislabels}, ${rule.A.alarms} false alarms | ${rule.B.found}/${PLANTS.mislabels}, ${rule.B.alarms} false alarms |`);
  const { near, identical, unplanted } = run.nearScores(NEAR_DUPLICATE_RATIO);
  say(`| near-duplicate ${NEAR_DUPLICATE_RATIO} × median same-person distance (${(NEAR_DUPLICATE_RATIO * medianGenuine).toFixed(3)}): re-encoded copies | ${near.A.found}/${PLANTS.near}, ${near.A.alarms} false alarms | ${near.B.found}/${PLANTS.near}, ${near.B.alarms} false alarms |`);
  say(`| identical copies (content hash) | ${identical.A}/${PLANTS.identical} | ${identical.B}/${PLANTS.identical} |`);
  say(`Near pairs not planted: ${unplanted.map((d) => `${basename(d.a.path)} ~ ${basename(d.b.path)} (${d.distance})`).join('; ') || 'none'}.`);
  say();
  say('## Time and memory');
  say(`Embedding: ${run.items.length} photos in ${run.embedSeconds.toFixed(1)} s (${(run.items.length / run.embedSeconds).toFixed(1)} photos/s, ${run.service.config.workers ?? 'default'} workers); peak RSS so far ${mb(run.embedRss)}.`);
  say('| faces | pair analysis (s) | impostor pairs kept | peak RSS after |');
  say('| --- | --- | --- | --- |');
  for (const share of [0.25, 0.5, 1]) {
    const some = ctx.rows.slice(0, Math.round(ctx.rows.length * share));
    const t0 = performance.now();
    const p = pairPass(some, NEAR_DUPLICATE_RATIO * medianGenuine);
    say(`| ${some.length} | ${((performance.now() - t0) / 1000).toFixed(2)} | ${p.impostor.length} | ${mb(process.resourceUsage().maxRSS * 1024)} |`);
  }
});
await writeReport('evaluate.md', `${lines.join('\n')}\n`);
