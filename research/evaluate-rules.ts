/**
 * How `facedb evaluate`'s problem rules were chosen: bench:evaluate's planted errors (bench/evaluate-planted.ts: per
 * half of the subset's people, 20 mislabels, 10 identical copies, 10 re-encoded copies, seed 2026), every candidate
 * mislabel rule and near-duplicate ratio scored on each half: planted errors found, and false alarms. The rule and
 * ratio are chosen on half A (most found minus false alarms; the smallest ratio on a tie) and reported on half B.
 * The shipped ones are MISLABEL_RULE and NEAR_DUPLICATE_RATIO (src/services/evaluation/problems.ts); bench:evaluate
 * measures those alone.
 *
 *   node --import tsx research/evaluate-rules.ts [--engine onnx] [--limit-people N]
 */
import { parseArgs } from 'node:util';
import { MISLABEL_RULE, NEAR_DUPLICATE_RATIO, type MislabelRule } from '../src/services/evaluation/problems.js';
import { numberOption } from '../bench/common.js';
import { PLANTS, withPlantedFolder, type HalfScores } from '../bench/evaluate-planted.js';

const { values: args } = parseArgs({ options: { engine: { type: 'string', default: 'onnx' }, 'limit-people': { type: 'string' } } });
const RULES: MislabelRule[] = ['nearer-other', 'named-other', 'named-other-not-own'];
const RATIOS = [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4];
const net = (s: HalfScores): number => s.A.found - s.A.alarms;

await withPlantedFolder(args.engine, numberOption(args['limit-people'], 'limit-people'), Math.max(...RATIOS), (run) => {
  console.log(`# facedb evaluate's rules on planted errors (${run.engine.model.id}@${run.engine.model.version}; identify threshold ${run.ctx.threshold})`);
  console.log('\n## Mislabel rules (found / planted, false alarms)\n| rule | half A | half B |\n| --- | --- | --- |');
  const rules = RULES.map((rule) => ({ rule, score: run.mislabelScores(rule) }));
  for (const { rule, score } of rules) {
    console.log(`| ${rule}${rule === MISLABEL_RULE ? ' (shipped)' : ''} | ${score.A.found}/${PLANTS.mislabels}, ${score.A.alarms} false alarms | ${score.B.found}/${PLANTS.mislabels}, ${score.B.alarms} false alarms |`);
  }
  console.log(`Chosen on half A (most found minus false alarms): **${rules.reduce((best, r) => (net(r.score) > net(best.score) ? r : best)).rule}**.`);
  console.log('\n## Near-duplicate ratio (× median same-person distance; found re-encoded copies / planted, false alarms = other near pairs)');
  console.log('| ratio | distance | half A | half B | identical copies found A / B |\n| --- | --- | --- | --- | --- |');
  const ratios = RATIOS.map((ratio) => ({ ratio, ...run.nearScores(ratio) }));
  for (const { ratio, near, identical } of ratios) {
    console.log(`| ${ratio}${ratio === NEAR_DUPLICATE_RATIO ? ' (shipped)' : ''} | ${(ratio * run.medianGenuine).toFixed(3)} | ${near.A.found}/${PLANTS.near}, ${near.A.alarms} | ${near.B.found}/${PLANTS.near}, ${near.B.alarms} | ${identical.A}/${PLANTS.identical} / ${identical.B}/${PLANTS.identical} |`);
  }
  console.log(`Chosen on half A (most found minus false alarms, the smallest ratio on a tie): **${ratios.reduce((best, r) => (net(r.near) > net(best.near) ? r : best)).ratio}**.`);
});
