// Where each face's label goes on the photo: next to its own box, on no other label and on no face.
// Pure geometry in CSS pixels of the drawn photo, so it can be re-run whenever the photo is drawn at a new size.

/** How many rows of labels may stand above the photo, and below it. */
const ROWS_OFF_PHOTO = 3;

/** Area shared by two rectangles ({x, y, w, h}). */
const overlap = (a, b) =>
  Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));

/** Gap between two rectangles (0 when they touch or overlap). */
const gap = (a, b) =>
  Math.hypot(Math.max(0, a.x - (b.x + b.w), b.x - (a.x + a.w)), Math.max(0, a.y - (b.y + b.h), b.y - (a.y + a.h)));

/** Spots around `box` for a label of `size`: above and below (at several offsets along the box), beside, then further out. */
function candidates(box, size) {
  const xs = [box.x, box.x + box.w - size.w, box.x + (box.w - size.w) / 2, box.x - size.w / 2, box.x + box.w - size.w / 2];
  const spots = [];
  for (let ring = 0; ring < 6; ring++) {
    const above = box.y - size.h * (ring + 1);
    const below = box.y + box.h + size.h * ring;
    for (const x of xs) spots.push({ x, y: above }, { x, y: below });
    if (ring > 2) continue;
    const left = box.x - size.w - (size.w / 2) * ring;
    const right = box.x + box.w + (size.w / 2) * ring;
    for (const y of [box.y, box.y + box.h - size.h, box.y + (box.h - size.h) / 2]) spots.push({ x: left, y }, { x: right, y });
  }
  return spots;
}

/** The nearest points of a label and its box: the ends of the line that joins them when they do not touch. */
export function leaderEnds(label, box) {
  const clamp = (value, low, high) => Math.min(Math.max(value, low), high);
  const from = { x: clamp(box.x + box.w / 2, label.x, label.x + label.w), y: clamp(box.y + box.h / 2, label.y, label.y + label.h) };
  const to = { x: clamp(from.x, box.x, box.x + box.w), y: clamp(from.y, box.y, box.y + box.h) };
  return { from, to };
}

/** How much of the line from a label to its box runs over other faces and labels (in sixteenths of its length). */
function crossings(label, box, obstacles) {
  const { from, to } = leaderEnds(label, box);
  let count = 0;
  for (let k = 1; k < 16; k++) {
    const x = from.x + ((to.x - from.x) * k) / 16;
    const y = from.y + ((to.y - from.y) * k) / 16;
    for (const o of obstacles) if (o !== box && x > o.x && x < o.x + o.w && y > o.y && y < o.y + o.h) count++;
  }
  return count;
}

/**
 * Label positions ({x, y}, top-left) for `boxes` (the faces as drawn) and `sizes` (each label's measured size)
 * on a `width`×`height` photo. Greedy, top face first: each label takes the nearest spot that covers no face and
 * no label placed before it; in a photo too crowded for that, the spot covering least. A label may stand above or
 * below the photo (the page makes room there) when that keeps it much nearer its face, never beside it (a phone
 * would have to scroll sideways).
 */
export function placeLabels(boxes, sizes, width, height) {
  const placed = new Array(boxes.length);
  const order = boxes.map((_, i) => i).sort((a, b) => boxes[a].y - boxes[b].y || boxes[a].x - boxes[b].x);
  const taken = [];
  for (const i of order) {
    const box = boxes[i];
    const size = sizes[i];
    let best;
    let bestCost = Infinity;
    for (const spot of candidates(box, size)) {
      const rect = {
        x: Math.min(Math.max(spot.x, 0), Math.max(width - size.w, 0)),
        y: Math.min(Math.max(spot.y, -ROWS_OFF_PHOTO * size.h), height + (ROWS_OFF_PHOTO - 1) * size.h),
        w: size.w,
        h: size.h,
      };
      // Covering a face or another label costs far more than any distance from the box; standing off the photo
      // costs as much as a label's own height of distance.
      let covered = 0;
      for (const face of boxes) covered += overlap(rect, face);
      for (const label of taken) covered += overlap(rect, label);
      const offPhoto = (size.w * size.h - overlap(rect, { x: 0, y: 0, w: width, h: height })) / size.w;
      const cost = covered * 1000 + gap(rect, box) + offPhoto + crossings(rect, box, [...boxes, ...taken]) * size.h;
      if (cost < bestCost) {
        bestCost = cost;
        best = rect;
      }
      if (cost === 0) break;
    }
    taken.push(best);
    placed[i] = { x: best.x, y: best.y };
  }
  return placed;
}
