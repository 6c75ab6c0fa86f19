import { escapeInvisible } from '../core/names.js';
import type { TrackIdentity, WatchEvent } from '../services/watch-service.js';

/** Video time as m:ss.s (h:mm:ss.s past an hour). */
export function formatVideoTime(ms: number): string {
  const tenths = Math.max(0, Math.round(ms / 100));
  const seconds = Math.floor(tenths / 10);
  const clock = `${String(seconds % 60).padStart(2, '0')}.${tenths % 10}`;
  const minutes = Math.floor(seconds / 60);
  return minutes >= 60 ? `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}:${clock}` : `${minutes}:${clock}`;
}

function percent(confidence: number | null): string {
  if (confidence === null) return '';
  if (confidence > 0.99) return ', > 99 % likely';
  if (confidence < 0.01) return ', < 1 % likely';
  return `, ${Math.round(confidence * 100)} % likely`;
}

function who(identity: TrackIdentity | null): string {
  if (identity === null) return 'unknown';
  const nearest = identity.candidates[0];
  if (identity.person !== null) {
    return `${escapeInvisible(identity.person)} (distance ${identity.distance?.toFixed(3)} ≤ ${identity.threshold}${percent(identity.confidence)})`;
  }
  if (!nearest) return 'unknown (the gallery is empty)';
  return `unknown (nearest ${escapeInvisible(nearest.person)} at ${nearest.distance.toFixed(3)} > ${identity.threshold})`;
}

const END_REASONS = {
  end: 'end of video',
  interrupted: 'interrupted',
  stalled: 'the source stopped sending',
  lost: 'the source went away',
} as const;

/** One line per watch event, for people. */
export function formatWatchEvent(event: WatchEvent): string {
  switch (event.type) {
    case 'started': {
      const { source } = event;
      const rate = source.fps > 0 ? `, ${source.fps} fps` : '';
      return `watching ${escapeInvisible(source.source)} (${source.kind}, ${source.width}×${source.height}${rate})`;
    }
    case 'track_started':
      return `${formatVideoTime(event.timeMs)}  track ${event.track} started at ${event.box.x},${event.box.y} ${event.box.width}×${event.box.height}`;
    case 'identity':
      return `${formatVideoTime(event.timeMs)}  track ${event.track}${event.previous === undefined ? '' : ' now'}: ${who(event.identity)}`;
    case 'track_ended': {
      const emotion = event.emotion ? `, mostly ${event.emotion.dominant}` : '';
      const seconds = (event.durationMs / 1000).toFixed(1);
      return `${formatVideoTime(event.timeMs)}  track ${event.track} ended after ${seconds} s (${event.framesSeen} frames): ${who(event.identity)}${emotion}`;
    }
    case 'frames_dropped':
      return `${formatVideoTime(event.timeMs)}  ${event.count} frames dropped (analysis slower than the source; ${event.total} in all)`;
    case 'ended': {
      const rate = event.elapsedMs > 0 ? ` (${((event.framesAnalyzed * 1000) / event.elapsedMs).toFixed(1)} frames/s)` : '';
      const why = event.message ? `${END_REASONS[event.reason]}: ${escapeInvisible(event.message)}` : END_REASONS[event.reason];
      return `ended: ${why}. ${event.frames} frames, ${event.framesAnalyzed} analysed, ${event.framesDropped} dropped, ${event.tracks} tracks, ${(event.elapsedMs / 1000).toFixed(1)} s${rate}`;
    }
  }
}
