import type { FaceSearchMatch, FaceSearchResult } from '../services/results.js';
import { shown } from './report.js';

/** `facedb search`'s report, shared by the local and the client command. */
export function formatSearch(file: string, result: FaceSearchResult): string {
  const { image, faces } = result;
  const lines = [`${shown(file)}  (${image.width}×${image.height} ${image.format}, ${faces.length === 1 ? '1 face' : `${faces.length} faces`})`];
  if (faces.length === 0) lines.push('  no face found');
  faces.forEach((face, i) => {
    const { box } = face;
    lines.push(`face ${i + 1}: box ${box.x},${box.y} ${box.width}×${box.height}  detection ${face.detectionScore.toFixed(2)}`);
    if (face.matches.length === 0) lines.push('  no stored face to compare with');
    for (const match of face.matches) lines.push(`  ${match.distance.toFixed(3)}  face ${match.faceId}  ${belongsTo(match)}  ${sourceOf(match)}`);
  });
  return lines.join('\n');
}

function belongsTo(match: FaceSearchMatch): string {
  if (match.person) return `${shown(match.person.name)} (#${match.person.id})`;
  return match.cluster === null ? 'unnamed, not clustered' : `unnamed, cluster ${match.cluster}`;
}

function sourceOf(match: FaceSearchMatch): string {
  const { path, uploadName } = match.source;
  if (path !== null) return shown(path);
  return uploadName === null ? '(upload)' : `(upload ${shown(uploadName)})`;
}
