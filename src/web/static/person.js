// A person's own view: every face stored for them, as the aligned crop the server keeps, with when it was added,
// its detection score and a "Remove this face" action. Built only on routes that exist (GET /v1/people/:id,
// GET /v1/faces/:id/image, DELETE /v1/faces/:id); rename, move and the face's source come with issue 17's routes.

import { $, api, el } from './api.js';

const view = $('person-view');
const title = $('person-title');
const status = $('person-status');
const list = $('person-faces');
let cropUrls = [];
let shown = null;
let onChange = () => {};

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const failure = (what, error) => `${what}: ${error.message.replace(/\.$/, '')} (${error.code ?? error.name}).`;

/** Opens the view on `person` ({id, name}); `changed` is called after a face is removed (the gallery recounts). */
export async function showPerson(person, changed = () => {}) {
  shown = person;
  onChange = changed;
  view.hidden = false;
  title.textContent = person.name;
  await loadFaces();
  title.focus();
}

async function loadFaces(note = '') {
  const person = shown;
  list.setAttribute('aria-busy', 'true');
  try {
    const detail = await (await api(`/v1/people/${person.id}`)).json();
    if (person !== shown) return;
    cropUrls.forEach((url) => URL.revokeObjectURL(url));
    cropUrls = [];
    list.replaceChildren(...detail.faces.map((face, i) => faceItem(detail, face, i)));
    const summary = detail.faces.length === 0 ? `${detail.name} has no faces left.` : `${plural(detail.faces.length, 'face')} of ${detail.name}.`;
    status.textContent = note ? `${note} ${summary}` : summary;
  } catch (error) {
    list.replaceChildren();
    status.textContent = failure(`Could not load ${person.name}'s faces`, error);
  } finally {
    list.removeAttribute('aria-busy');
  }
}

function faceItem(person, face, i) {
  const img = el('img', { alt: `${person.name}, face ${i + 1}`, width: 96, height: 96 });
  img.dataset.testid = 'person-face-crop';
  void loadCrop(img, face.image_url);
  const added = new Date(face.created_at).toLocaleString();
  const remove = el('button', { type: 'button', className: 'danger', textContent: 'Remove this face' });
  remove.setAttribute('aria-label', `Remove face ${i + 1} of ${person.name}`);
  remove.dataset.testid = 'person-face-remove';
  remove.addEventListener('click', () => void removeFace(person, face, i, remove));
  const item = el(
    'li',
    { className: 'person-face' },
    img,
    el('p', { textContent: `Face ${i + 1} · added ${added} · detection ${face.detection_score.toFixed(2)}` }),
    remove,
  );
  item.dataset.testid = 'person-face';
  item.dataset.faceId = String(face.id);
  return item;
}

/** Crops need the API key, so they are fetched as blobs rather than linked with <img src>. */
async function loadCrop(img, url) {
  try {
    const objectUrl = URL.createObjectURL(await (await api(url)).blob());
    cropUrls.push(objectUrl);
    img.src = objectUrl;
  } catch {
    img.alt += ' (no image)';
  }
}

async function removeFace(person, face, i, button) {
  if (!confirm(`Remove face ${i + 1} from ${person.name}? Its crop and embedding are erased; this cannot be undone.`)) return;
  button.disabled = true;
  try {
    await api(`/v1/faces/${face.id}`, { method: 'DELETE' });
    await loadFaces(`Removed face ${i + 1}.`);
    onChange();
    title.focus();
  } catch (error) {
    button.disabled = false;
    status.textContent = failure(`Could not remove face ${i + 1}`, error);
  }
}

/** Closes the view (on any person, or only when it shows the person with id `personId`). */
export function closePerson(personId) {
  if (personId !== undefined && shown?.id !== personId) return;
  view.hidden = true;
  shown = null;
  list.replaceChildren();
  cropUrls.forEach((url) => URL.revokeObjectURL(url));
  cropUrls = [];
}

$('person-close').addEventListener('click', () => {
  closePerson();
  $('gallery-title').focus();
});
