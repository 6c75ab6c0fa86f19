// A person's own view: every face stored for them, as the aligned crop the server keeps, with the photo it came
// from, when it was added and its detection score; rename the person, move a face to another person (a new name
// creates one), remove a face. Over GET /v1/people/:id (name and count), GET /v1/people/:id/faces (paged),
// PATCH /v1/people/:id, POST /v1/faces/move and DELETE /v1/faces/:id.

import { $, api, el } from './api.js';
import { cropImage, cropLoader, failure, personIdByName, plural, refreshPersonNames, sourceText } from './ui.js';

const PAGE_SIZE = 24;

const view = $('person-view');
const title = $('person-title');
const status = $('person-status');
const list = $('person-faces');
const crops = cropLoader();
let shown = null;
let onChange = () => {};
let numbered = 0;

// Rename: built here so the page's HTML stays as it was.
const renameInput = el('input', { id: 'person-rename-name', required: true, autocomplete: 'off' });
renameInput.dataset.testid = 'person-rename-name';
const renameButton = el('button', { type: 'submit', className: 'secondary', textContent: 'Rename' });
renameButton.dataset.testid = 'person-rename-submit';
const renameForm = el(
  'form',
  { className: 'person-rename' },
  el('label', { htmlFor: 'person-rename-name', textContent: 'Rename to' }),
  renameInput,
  renameButton,
);
renameForm.dataset.testid = 'person-rename';
const mergeInput = el('input', { id: 'person-merge-into', required: true, autocomplete: 'off', placeholder: 'Their name' });
mergeInput.setAttribute('list', 'person-names');
mergeInput.dataset.testid = 'person-merge-into';
const mergeButton = el('button', { type: 'submit', className: 'secondary', textContent: 'Merge' });
mergeButton.dataset.testid = 'person-merge-submit';
const mergeForm = el(
  'form',
  { className: 'person-rename' },
  el('label', { htmlFor: 'person-merge-into', textContent: 'Same person as (merge into them)' }),
  mergeInput,
  mergeButton,
);
mergeForm.dataset.testid = 'person-merge';
const more = el('button', { type: 'button', className: 'secondary', textContent: 'More faces', hidden: true });
more.dataset.testid = 'person-more';
view.querySelector('.person-view-head').after(renameForm, mergeForm);
list.after(more);

const say = (text, error = false) => {
  status.textContent = text;
  status.classList.toggle('status-error', error);
};
const json = async (path, options) => (await api(path, options)).json();

/** Opens the view on `person` ({id, name}); `changed` is called after any change (the gallery recounts). */
export async function showPerson(person, changed = () => {}) {
  shown = person;
  onChange = changed;
  view.hidden = false;
  title.textContent = person.name;
  renameInput.value = person.name;
  await loadFaces();
  title.focus();
}

async function loadFaces(note = '') {
  const person = shown;
  list.setAttribute('aria-busy', 'true');
  try {
    const [detail, page] = await Promise.all([json(`/v1/people/${person.id}`), json(`/v1/people/${person.id}/faces?limit=${PAGE_SIZE}`)]);
    if (person !== shown) return;
    shown = { id: detail.id, name: detail.name };
    title.textContent = detail.name;
    crops.revoke();
    numbered = 0;
    list.replaceChildren(...page.items.map(faceItem));
    setMore(page.next_cursor);
    const summary = detail.face_count === 0 ? `${detail.name} has no faces left.` : `${plural(detail.face_count, 'face')} of ${detail.name}.`;
    say(note ? `${note} ${summary}` : summary);
    void refreshPersonNames();
  } catch (error) {
    list.replaceChildren();
    setMore(null);
    say(failure(`Could not load ${person.name}'s faces`, error), true);
  } finally {
    list.removeAttribute('aria-busy');
  }
}

function setMore(cursor) {
  more.hidden = !cursor;
  more.dataset.cursor = cursor ?? '';
}

more.addEventListener('click', async () => {
  const person = shown;
  more.disabled = true;
  try {
    const page = await json(`/v1/people/${person.id}/faces?limit=${PAGE_SIZE}&cursor=${encodeURIComponent(more.dataset.cursor)}`);
    if (person !== shown) return;
    list.append(...page.items.map(faceItem));
    setMore(page.next_cursor);
  } catch (error) {
    say(failure('Could not load more faces', error), true);
  } finally {
    more.disabled = false;
  }
});

function faceItem(face) {
  const person = shown;
  const n = ++numbered;
  const label = `face ${n} of ${person.name}`;
  const img = cropImage(crops, face.image_url, `${person.name}, face ${n}`, 96, 'person-face-crop');
  const added = new Date(face.added_at).toLocaleString();
  const source = el('p', { className: 'person-face-source', textContent: `From ${sourceText(face.source)}` });
  source.dataset.testid = 'person-face-source';

  const target = el('input', { required: true, autocomplete: 'off', placeholder: 'Move to…' });
  target.setAttribute('list', 'person-names');
  target.setAttribute('aria-label', `Move ${label} to`);
  target.dataset.testid = 'person-face-move-to';
  const moveButton = el('button', { type: 'submit', className: 'secondary', textContent: 'Move' });
  moveButton.setAttribute('aria-label', `Move ${label}`);
  const move = el('form', { className: 'person-face-move' }, target, moveButton);
  move.addEventListener('submit', (event) => {
    event.preventDefault();
    void moveFace(face, n, target.value.trim(), moveButton);
  });

  const remove = el('button', { type: 'button', className: 'danger', textContent: 'Remove this face' });
  remove.setAttribute('aria-label', `Remove ${label}`);
  remove.dataset.testid = 'person-face-remove';
  remove.addEventListener('click', () => void removeFace(face, n, remove));
  const item = el(
    'li',
    { className: 'person-face' },
    img,
    el(
      'div',
      { className: 'person-face-info' },
      el('p', { textContent: `Face ${n} · added ${added} · detection ${face.detection_score.toFixed(2)}` }),
      source,
      move,
      remove,
    ),
  );
  item.dataset.testid = 'person-face';
  item.dataset.faceId = String(face.id);
  return item;
}

async function moveFace(face, n, to, button) {
  if (!to) return;
  button.disabled = true;
  try {
    const result = await json('/v1/faces/move', { method: 'POST', json: { faces: [face.id], to } });
    const created = result.person.created ? ' (a new person)' : '';
    await loadFaces(`Moved face ${n} to ${result.person.name}${created}.`);
    onChange();
    title.focus();
  } catch (error) {
    button.disabled = false;
    say(failure(`Could not move face ${n} to ${to}`, error), true);
  }
}

async function removeFace(face, n, button) {
  if (!confirm(`Remove face ${n} from ${shown.name}? Its crop and embedding are erased; this cannot be undone.`)) return;
  button.disabled = true;
  try {
    await api(`/v1/faces/${face.id}`, { method: 'DELETE' });
    await loadFaces(`Removed face ${n}.`);
    onChange();
    title.focus();
  } catch (error) {
    button.disabled = false;
    say(failure(`Could not remove face ${n}`, error), true);
  }
}

renameForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const person = shown;
  const name = renameInput.value.trim();
  if (!person || !name || name === person.name) return;
  renameButton.disabled = true;
  try {
    const renamed = await json(`/v1/people/${person.id}`, { method: 'PATCH', json: { name } });
    await loadFaces(`Renamed ${person.name} to ${renamed.name}.`);
    renameInput.value = renamed.name;
    onChange();
  } catch (error) {
    say(failure(`Could not rename ${person.name} to ${name}`, error), true);
  } finally {
    renameButton.disabled = false;
  }
});

mergeForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const person = shown;
  const name = mergeInput.value.trim();
  if (!person || !name) return;
  await refreshPersonNames();
  const into = personIdByName(name);
  if (into === undefined) {
    say(`Could not merge ${person.name}: no one is called ${name}.`, true);
    return;
  }
  if (!confirm(`Merge ${person.name} into ${name}? Every face of ${person.name} becomes ${name}'s, and ${person.name} is removed.`)) return;
  mergeButton.disabled = true;
  try {
    const result = await json(`/v1/people/${person.id}/merge`, { method: 'POST', json: { into } });
    mergeInput.value = '';
    onChange();
    shown = { id: into, name };
    renameInput.value = name;
    await loadFaces(`Merged ${person.name} into ${name} (${plural(result.merged_faces, 'face')} moved).`);
  } catch (error) {
    say(failure(`Could not merge ${person.name} into ${name}`, error), true);
  } finally {
    mergeButton.disabled = false;
  }
});

/** Closes the view (on any person, or only when it shows the person with id `personId`). */
export function closePerson(personId) {
  if (personId !== undefined && shown?.id !== personId) return;
  view.hidden = true;
  shown = null;
  list.replaceChildren();
  setMore(null);
  crops.revoke();
}

$('person-close').addEventListener('click', () => {
  closePerson();
  $('gallery-title').focus();
});
