// The identify result: the photo with a box and a label (number, name, emotion) on every face, and a compact card
// per face below it (match, calibrated confidence, attributes, emotion scores folded away).

import { $, el } from './api.js';
import { leaderEnds, placeLabels } from './labels.js';

const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

const photoFrame = $('photo-frame');
const faceList = $('face-list');

/**
 * "97 %", never "100 %" or "0 %" (the calibration cannot be that sure): the CLI's wording (src/cli/report.ts,
 * formatConfidence), repeated here because the page is served as plain files without a build step.
 */
export function formatConfidence(confidence) {
  if (confidence >= 0.995) return '> 99 %';
  if (confidence < 0.005) return '< 1 %';
  return `${Math.round(confidence * 100)} %`;
}

const faceName = (face) => face.match?.person ?? 'unknown';

/** Draws `data.faces` (an identify answer) over the photo already in the frame, and lists them. */
export function showFaces(data) {
  const { width, height } = data.image;
  photoFrame.style.setProperty('--aspect', String(width / height));
  photoFrame.querySelectorAll('.face-box').forEach((box) => box.remove());
  faceList.replaceChildren();
  data.faces.forEach((face, i) => {
    photoFrame.append(faceBox(face, i, width, height));
    faceList.append(faceItem(face, i));
  });
  layoutLabels();
}

const pct = (value, total) => `${(Math.min(Math.max(value / total, 0), 1) * 100).toFixed(3)}%`;

function faceBox(face, i, width, height) {
  const { x, y, width: w, height: h } = face.box;
  // Detections can reach past the photo's edges; clip them so the box stays on the image.
  const left = Math.max(x, 0);
  const top = Math.max(y, 0);
  const box = el('div', { className: `face-box${face.match ? ' face-box-known' : ''}` });
  box.dataset.testid = 'face-box';
  box.setAttribute('aria-hidden', 'true');
  Object.assign(box.style, {
    left: pct(left, width),
    top: pct(top, height),
    width: pct(Math.min(x + w, width) - left, width),
    height: pct(Math.min(y + h, height) - top, height),
  });
  const label = el(
    'span',
    { className: 'face-box-label' },
    el('span', { className: 'face-box-name', textContent: `${i + 1} ${faceName(face)}` }),
    el('span', { className: 'face-box-emotion', textContent: face.emotion.dominant }),
  );
  label.dataset.testid = 'face-label';
  box.append(label);
  return box;
}

/**
 * Puts every label next to its face where it covers no other label and no face (labels.js). Labels live inside
 * their box (so hiding or hovering a box takes its label along) but are placed in the photo's pixels, again
 * whenever the photo is drawn at another size.
 */
function layoutLabels() {
  const frame = photoFrame.getBoundingClientRect();
  const boxes = [...photoFrame.querySelectorAll('.face-box')];
  if (boxes.length === 0 || frame.width === 0) {
    // No labels, so no room for them (an earlier photo's may still be reserved).
    photoFrame.style.margin = '';
    return;
  }
  const rects = boxes.map((box) => {
    const r = box.getBoundingClientRect();
    return { x: r.left - frame.left, y: r.top - frame.top, w: r.width, h: r.height };
  });
  const labels = boxes.map((box) => box.querySelector('.face-box-label'));
  const sizes = labels.map((label) => ({ w: label.offsetWidth, h: label.offsetHeight }));
  const spots = placeLabels(rects, sizes, frame.width, frame.height);
  spots.forEach((spot, i) => {
    const rect = rects[i];
    // Relative to the box's padding edge, which is inside its border.
    const border = boxes[i].clientLeft;
    labels[i].style.left = `${spot.x - rect.x - border}px`;
    labels[i].style.top = `${spot.y - rect.y - border}px`;
    boxes[i].querySelector('.face-box-leader')?.remove();
    const leader = leaderLine({ ...spot, ...sizes[i] }, rect, { x: rect.x + border, y: rect.y + border });
    if (leader) boxes[i].append(leader);
  });
  // Labels above or below the photo get room there, so they push the caption down instead of covering it.
  const above = Math.max(0, ...spots.map((spot) => -spot.y));
  const below = Math.max(0, ...spots.map((spot, i) => spot.y + sizes[i].h - frame.height));
  photoFrame.style.marginTop = `${above}px`;
  photoFrame.style.marginBottom = `${below}px`;
}

/**
 * A line from a label that does not touch its box to the box, so it is clear which face it names; null when it
 * touches. Placed relative to `origin`, the box's padding edge in the photo's pixels.
 */
function leaderLine(label, box, origin) {
  const { from, to } = leaderEnds(label, box);
  const length = Math.hypot(to.x - from.x, to.y - from.y);
  if (length < 3) return null;
  const line = el('span', { className: 'face-box-leader' });
  Object.assign(line.style, {
    left: `${from.x - origin.x}px`,
    top: `${from.y - origin.y}px`,
    width: `${length}px`,
    transform: `rotate(${Math.atan2(to.y - from.y, to.x - from.x)}rad)`,
  });
  return line;
}

new ResizeObserver(layoutLabels).observe(photoFrame);

function matchLine(face) {
  const nearest = face.match ?? face.candidates?.[0];
  if (!nearest) return 'no one enrolled to compare with';
  const likely = nearest.confidence === null ? '' : `${formatConfidence(nearest.confidence)} likely it is ${nearest.person} · `;
  const distance = `distance ${nearest.distance.toFixed(2)}`;
  return face.match ? `${likely}${distance}` : `nearest: ${nearest.person} · ${likely}${distance}`;
}

function faceItem(face, i) {
  const name = el('span', { textContent: `${i + 1}. ${faceName(face)}` });
  name.dataset.testid = 'face-name';
  const match = el('p', { className: 'face-meta', textContent: matchLine(face) });
  match.dataset.testid = 'face-match';
  const emotions = el('dl', { className: 'emotions' });
  for (const label of EMOTIONS) {
    const score = face.emotion.scores[label] ?? 0;
    const bar = el('span', { className: 'bar' }, el('span'));
    bar.firstChild.style.width = `${score}%`;
    bar.setAttribute('aria-hidden', 'true');
    emotions.append(
      el(
        'div',
        { className: `emotion${label === face.emotion.dominant ? ' dominant' : ''}` },
        el('dt', { textContent: label }),
        el('dd', {}, bar, el('span', { className: 'pct', textContent: `${Math.round(score)}%` })),
      ),
    );
  }
  const dominant = Math.round(face.emotion.scores[face.emotion.dominant] ?? 0);
  const item = el(
    'li',
    { className: `face${face.match ? ' known' : ''}` },
    el('div', { className: 'face-head' }, name),
    match,
    el('p', {
      className: 'face-meta',
      textContent: `Looks ${face.emotion.dominant} (${dominant}%) · age about ${Math.round(face.age)} · ${face.gender}`,
    }),
    el('details', {}, el('summary', { textContent: 'All emotions' }), emotions),
  );
  item.dataset.testid = 'face-item';
  return item;
}
