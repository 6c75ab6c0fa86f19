import type { ClusterListing, ClusterRunSummary, UnnamedEnrollOutcome, UnnamedEnrollSummary } from '../services/cluster-service.js';
import type { NamedCluster } from '../store/store.js';
import { detailFor, formatRunHead } from './report.js';

/** Text reports for unnamed faces and clusters; pure functions from results to text. */

const OUTCOME_WORDS: Record<UnnamedEnrollOutcome['status'], string> = {
  enrolled: 'enrolled',
  already_enrolled: 'already enrolled',
  no_face: 'no face',
  unreadable: 'unreadable',
  failed: 'failed',
};

export function formatUnnamedOutcome(outcome: UnnamedEnrollOutcome): string {
  const detail = outcome.message ? `: ${detailFor(outcome.path, outcome.message)}` : '';
  const faces = outcome.status === 'enrolled' ? ` (${plural(outcome.faceIds.length, 'face')})` : '';
  return `${OUTCOME_WORDS[outcome.status].padEnd(17)} ${outcome.path}${faces}${detail}`;
}

export function formatUnnamedSummary(summary: UnnamedEnrollSummary): string {
  const parts = (Object.keys(OUTCOME_WORDS) as Array<UnnamedEnrollOutcome['status']>)
    .filter((status) => summary.counts[status] > 0)
    .map((status) => `${summary.counts[status]} ${OUTCOME_WORDS[status]}`);
  const lines = [
    `${formatRunHead(summary.outcomes.length, summary.total, summary.elapsedMs)}: ${parts.join(', ') || 'nothing to do'}; ${plural(summary.facesAdded, 'face')} added without a name`,
  ];
  if (summary.clustering) lines.push(formatClusterRun(summary.clustering));
  return lines.join('\n');
}

export function formatClusterRun(run: ClusterRunSummary): string {
  const total = `${plural(run.clusters, 'cluster')} in all (facedb people --clusters)`;
  if (run.full) {
    return (
      `re-clustered ${plural(run.facesClustered, 'unnamed face')} at distance ${run.threshold.toFixed(3)}: ` +
      `${run.clustersGrown} clusters kept their ids, ${plural(run.clustersCreated, 'new cluster')}; ${total}`
    );
  }
  return (
    `clustered ${plural(run.facesClustered, 'new face')} at distance ${run.threshold.toFixed(3)}: ` +
    `${plural(run.clustersCreated, 'new cluster')}, ${run.clustersGrown} grown, ${run.clustersMerged} merged into others; ${total}`
  );
}

export function formatClusters(listing: ClusterListing): string {
  const lines: string[] = [];
  if (listing.total === 0) lines.push('no clusters');
  else {
    lines.push(`${'id'.padStart(6)}  ${'faces'.padStart(5)}  sample photos (face id: photo)`);
    for (const cluster of listing.items) {
      const samples = cluster.samples.map((face) => `${face.id}: ${face.sourcePath ?? '(upload)'}`).join(', ');
      const hint = cluster.suggestion;
      const suggestion =
        hint === null
          ? ''
          : `  → looks like ${hint.person.name} (person ${hint.person.id}, distance ${hint.distance}` +
            `${hint.confidence === null ? '' : `, confidence ${hint.confidence}`})`;
      lines.push(`${String(cluster.id).padStart(6)}  ${String(cluster.size).padStart(5)}  ${samples}${suggestion}`);
    }
    const shown = listing.items.length < listing.total ? ` (showing ${listing.items.length})` : '';
    // The way out of a wrong suggestion is worth a mention only where there is a suggestion.
    const rejectHint = listing.items.some((cluster) => cluster.suggestion !== null) ? ' (or facedb reject <id> <person> for a wrong suggestion)' : '';
    lines.push(`${plural(listing.total, 'cluster')}${shown}; name one with: facedb name-cluster <id> "Name"${rejectHint}`);
  }
  lines.push(
    `${plural(listing.unnamedFaces, 'unnamed face')}` +
      (listing.unclusteredFaces > 0 ? `, ${listing.unclusteredFaces} not clustered yet (facedb cluster)` : ''),
  );
  return lines.join('\n');
}

export function formatNamedCluster(clusterId: number, named: NamedCluster): string {
  const left =
    named.facesLeft > 0
      ? `; ${plural(named.facesLeft, 'face')} left in cluster ${clusterId} (photos ${named.person.name} already has a face from)`
      : '';
  return `cluster ${clusterId} → ${named.person.name} (person ${named.person.id}): ${plural(named.facesNamed, 'face')} named, ${plural(named.person.faceCount, 'face')} in all${left}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
