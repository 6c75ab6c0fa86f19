// "Search by face": every face of a photo compared with every stored face, named or not (POST /v1/search), to
// answer "where else does this face appear?". Each face of the photo is shown cut out of it, beside its nearest
// stored faces as crops, with their person or cluster, the photo they came from and the distance.

import { $, api, el } from './api.js';
import { cropImage, cropLoader, failure, plural, sourceText } from './ui.js';

const form = $('search-form');
const fileInput = $('search-file');
const status = $('search-status');
const results = $('search-results');
const crops = cropLoader();

const say = (text, error = false) => {
  status.textContent = text;
  status.classList.toggle('status-error', error);
};

/** Who a stored face belongs to, in words. */
function ownerText(match) {
  if (match.person) return match.person.name ?? String(match.person);
  if (match.cluster !== null && match.cluster !== undefined) return `unnamed, cluster ${match.cluster}`;
  return 'unnamed, in no cluster';
}

/** The face as a small picture cut from the photo itself, so each row says which face it is about. */
function probeCrop(bitmap, box, n) {
  const canvas = el('canvas', { width: 96, height: 96 });
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `Face ${n} of the photo`);
  canvas.dataset.testid = 'search-probe';
  if (bitmap) {
    const side = Math.max(box.width, box.height);
    const x = box.x + box.width / 2 - side / 2;
    const y = box.y + box.height / 2 - side / 2;
    canvas.getContext('2d').drawImage(bitmap, x, y, side, side, 0, 0, 96, 96);
  }
  return canvas;
}

function matchItem(match, n, i) {
  const owner = ownerText(match);
  const img = cropImage(crops, match.image_url, `Match ${i + 1} for face ${n}: ${owner}`, 80, 'search-match-crop');
  const item = el(
    'li',
    { className: `search-match${match.person ? ' search-match-named' : ''}` },
    img,
    el(
      'div',
      {},
      el('p', { className: 'search-owner', textContent: owner }),
      el('p', { textContent: `from ${sourceText(match.source)}` }),
      el('p', { textContent: `distance ${match.distance.toFixed(2)} · face ${match.face_id}` }),
    ),
  );
  item.dataset.testid = 'search-match';
  item.dataset.faceId = String(match.face_id);
  return item;
}

function faceResult(face, n, bitmap) {
  const matches = el('ol', { className: 'search-matches' }, ...face.matches.map((match, i) => matchItem(match, n, i)));
  matches.setAttribute('aria-label', `Stored faces nearest face ${n}`);
  const heading = face.matches.length === 0 ? 'no stored face to compare with' : `${plural(face.matches.length, 'nearest stored face')}`;
  const item = el(
    'li',
    { className: 'search-face' },
    el('div', { className: 'search-probe' }, probeCrop(bitmap, face.box, n), el('p', { textContent: `Face ${n}: ${heading}` })),
    matches,
  );
  item.dataset.testid = 'search-face';
  return item;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const [file] = fileInput.files;
  if (!file) return;
  const submit = $('search-submit');
  submit.disabled = true;
  say(`Looking for the faces of ${file.name}…`);
  results.setAttribute('aria-busy', 'true');
  const body = new FormData();
  body.append('image', file, file.name);
  const query = new URLSearchParams();
  if ($('search-top').value) query.set('top', $('search-top').value);
  if ($('search-unnamed').checked) query.set('unnamed', 'true');
  try {
    const data = await (await api(`/v1/search?${query}`, { method: 'POST', form: body })).json();
    // A photo the browser cannot draw (the server reads some formats browsers do not) still gets its matches.
    const bitmap = await createImageBitmap(file).catch(() => null);
    crops.revoke();
    results.replaceChildren(...data.faces.map((face, i) => faceResult(face, i + 1, bitmap)));
    say(data.faces.length === 0 ? `No faces found in ${file.name}.` : `${plural(data.faces.length, 'face')} in ${file.name}, nearest first.`);
  } catch (error) {
    results.replaceChildren();
    say(failure(`Could not search with ${file.name}`, error), true);
  } finally {
    results.removeAttribute('aria-busy');
    submit.disabled = false;
  }
});
