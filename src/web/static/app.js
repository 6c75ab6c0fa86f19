// The facedb web page: a plain ES module over the /v1 HTTP API, served as-is (no build step).

import { $, api, ApiError, apiKeyInput, el, serverInfo } from './api.js';
import { closePerson, showPerson } from './person.js';
import { showFaces } from './result.js';

const KEY_STORAGE = 'facedb.apiKey';
const PAGE_SIZE = 10;
const THUMBS_PER_PERSON = 3;

// ------------------------------------------------------------------ API

const apiJson = async (path, options) => (await api(path, options)).json();

const errorBox = $('error');

function showError(what, error) {
  const code = error instanceof ApiError ? error.code : error.name;
  const hint = code === 'unauthorized' || code === 'forbidden' ? ' Check the API key at the top of the page.' : '';
  errorBox.textContent = `${what}: ${error.message.replace(/\.$/, '')} (${code}).${hint}`;
}

const clearError = () => {
  errorBox.textContent = '';
};

// ------------------------------------------------------------------ API key

apiKeyInput.value = localStorage.getItem(KEY_STORAGE) ?? '';
function applyKey() {
  const key = apiKeyInput.value.trim();
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
  clearError();
  void loadPeople();
}

apiKeyInput.addEventListener('change', applyKey);
// A server without keys needs none: the field would only invite a key that nothing checks.
void serverInfo.then(({ openMode, nameMaxLength }) => {
  $('key-form').hidden = openMode;
  // The server's own limit (its OpenAPI document); without it the server's refusal explains the limit.
  if (nameMaxLength !== undefined) $('enroll-name').maxLength = nameMaxLength;
});
// Enter commits the field (a change event); the form is only there to hold it, so never submit it.
$('key-form').addEventListener('submit', (event) => event.preventDefault());

// ------------------------------------------------------------------ identify

const identifyStatus = $('identify-status');
const result = $('result');
const resultImage = $('result-image');
let photoUrl;

async function identify(blob, name) {
  clearError();
  identifyStatus.textContent = `Looking for faces in ${name}…`;
  result.setAttribute('aria-busy', 'true');
  const form = new FormData();
  form.append('image', blob, name);
  try {
    const data = await apiJson('/v1/identify', { method: 'POST', form });
    if (photoUrl) URL.revokeObjectURL(photoUrl);
    photoUrl = URL.createObjectURL(blob);
    resultImage.src = photoUrl;
    // Boxes go on once the photo has its size, so they never flash at the wrong scale. A photo the
    // browser cannot draw (the server reads some formats browsers do not) still gets its face list.
    await resultImage.decode().catch(() => {});
    showResult(data, name);
  } catch (error) {
    identifyStatus.textContent = '';
    // The previous photo's result would read as this one's.
    result.hidden = true;
    showError(`Could not identify ${name}`, error);
  } finally {
    result.removeAttribute('aria-busy');
  }
}

function showResult(data, name) {
  const { width, height, format } = data.image;
  const known = data.faces.filter((face) => face.match).length;
  const count = data.faces.length;
  const took = `Took ${Math.round(data.took_ms)} ms.`;
  identifyStatus.textContent =
    count === 0
      ? `No faces found in ${name}. ${took}`
      : `${count} ${count === 1 ? 'face' : 'faces'} found: ${known} known, ${count - known} unknown. ${took}`;
  resultImage.alt = `${name}, with ${count} ${count === 1 ? 'face' : 'faces'} marked; details in the list`;
  $('identify-summary').textContent = `${name} · ${width}×${height} ${format} · match threshold ${data.threshold}`;
  // Shown before the faces are drawn: their labels are placed by measuring the photo as drawn.
  result.hidden = false;
  showFaces(data);
}

const identifyFile = $('identify-file');
identifyFile.addEventListener('change', () => {
  const [file] = identifyFile.files;
  if (file) void identify(file, file.name);
});

const dropzone = $('dropzone');
dropzone.addEventListener('dragover', (event) => {
  event.preventDefault();
  dropzone.classList.add('over');
});
dropzone.addEventListener('dragleave', () => dropzone.classList.remove('over'));
dropzone.addEventListener('drop', (event) => {
  event.preventDefault();
  dropzone.classList.remove('over');
  const [file] = event.dataTransfer.files;
  if (file) void identify(file, file.name);
});

// ------------------------------------------------------------------ camera

const cameraButton = $('camera-button');
const cameraDialog = $('camera-dialog');
const cameraVideo = $('camera-video');

/** Shows the camera button only when the browser can see a camera (never on plain http off localhost). */
async function detectCamera() {
  const devices = (await navigator.mediaDevices?.enumerateDevices().catch(() => [])) ?? [];
  cameraButton.hidden = !devices.some((device) => device.kind === 'videoinput');
}

const captureButton = $('camera-capture');
// Until the first frame arrives the video has no size, and a capture would be an empty picture.
cameraVideo.addEventListener('loadeddata', () => {
  captureButton.disabled = false;
});

cameraButton.addEventListener('click', async () => {
  clearError();
  captureButton.disabled = true;
  try {
    cameraVideo.srcObject = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
    cameraDialog.showModal();
  } catch (error) {
    showError('Could not start the camera', error);
  }
});

// Closing the dialog any way (Cancel, Escape, after capture) releases the camera.
cameraDialog.addEventListener('close', () => {
  cameraVideo.srcObject?.getTracks().forEach((track) => track.stop());
  cameraVideo.srcObject = null;
});
$('camera-cancel').addEventListener('click', () => cameraDialog.close());
captureButton.addEventListener('click', () => {
  const canvas = el('canvas', { width: cameraVideo.videoWidth, height: cameraVideo.videoHeight });
  canvas.getContext('2d').drawImage(cameraVideo, 0, 0);
  cameraDialog.close();
  canvas.toBlob((blob) => {
    if (blob) void identify(blob, 'camera photo');
    else showError('Could not take a photo', new Error('the camera gave no picture'));
  }, 'image/jpeg', 0.92);
});

navigator.mediaDevices?.addEventListener('devicechange', detectCamera);
void detectCamera();

// ------------------------------------------------------------------ gallery

const peopleList = $('people-list');
const peopleStatus = $('people-status');
const prevButton = $('people-prev');
const nextButton = $('people-next');
let offset = 0;
let thumbUrls = [];
// Each render bumps this, so thumbnails still loading for an older page are dropped.
let generation = 0;

async function loadPeople() {
  const current = ++generation;
  peopleStatus.textContent = 'Loading the gallery…';
  let page;
  try {
    page = await apiJson(`/v1/people?limit=${PAGE_SIZE}&offset=${offset}`);
  } catch (error) {
    peopleStatus.textContent = '';
    showError('Could not load the gallery', error);
    return;
  }
  if (current !== generation) return;
  // Removing the last person on the last page leaves it empty: step back a page.
  if (page.items.length === 0 && offset > 0) {
    offset = Math.max(0, offset - PAGE_SIZE);
    return loadPeople();
  }
  thumbUrls.forEach((url) => URL.revokeObjectURL(url));
  thumbUrls = [];
  peopleList.replaceChildren(...page.items.map(personItem));
  peopleStatus.textContent =
    page.total === 0
      ? 'No one is enrolled yet.'
      : `${page.total} ${page.total === 1 ? 'person' : 'people'} enrolled.`;
  $('people-page').textContent =
    page.total === 0 ? '' : `${offset + 1}–${offset + page.items.length} of ${page.total}`;
  $('people-pager').hidden = page.total <= PAGE_SIZE;
  prevButton.disabled = offset === 0;
  nextButton.disabled = offset + page.items.length >= page.total;
  page.items.forEach((person, i) => void loadThumbs(person, peopleList.children[i], current));
}

function personItem(person) {
  const remove = el('button', { type: 'button', className: 'danger', textContent: 'Remove' });
  remove.setAttribute('aria-label', `Remove ${person.name}`);
  remove.dataset.testid = 'remove-person';
  remove.addEventListener('click', () => removePerson(person));
  const name = el('p', { className: 'person-name', textContent: person.name });
  name.dataset.testid = 'person-name';
  const faces = el('button', { type: 'button', className: 'secondary', textContent: 'Faces' });
  faces.setAttribute('aria-label', `Faces of ${person.name}`);
  faces.dataset.testid = 'show-person';
  faces.addEventListener('click', () => void showPerson(person, () => void loadPeople()));
  const photos = `${person.face_count} ${person.face_count === 1 ? 'photo' : 'photos'}`;
  const item = el(
    'li',
    { className: 'person' },
    el('div', { className: 'thumbs' }),
    el('div', { className: 'person-info' }, name, el('p', { textContent: photos })),
    faces,
    remove,
  );
  item.dataset.testid = 'person';
  return item;
}

/** Thumbnails need the API key, so they are fetched as blobs rather than linked with <img src>. */
async function loadThumbs(person, item, current) {
  try {
    const { faces } = await apiJson(`/v1/people/${person.id}`);
    for (const [i, face] of faces.slice(0, THUMBS_PER_PERSON).entries()) {
      const url = URL.createObjectURL(await (await api(face.image_url)).blob());
      thumbUrls.push(url);
      const img = el('img', { src: url, alt: `${person.name}, enrolled face ${i + 1}`, width: 48, height: 48 });
      img.dataset.testid = 'person-thumb';
      await img.decode();
      if (current !== generation) return;
      item.querySelector('.thumbs').append(img);
    }
  } catch {
    // A missing thumbnail is cosmetic; the list itself already reported any real failure.
  }
}

async function removePerson(person) {
  const photos = `${person.face_count} ${person.face_count === 1 ? 'photo' : 'photos'}`;
  if (!confirm(`Remove ${person.name} and their ${photos} from the gallery? This cannot be undone.`)) return;
  clearError();
  try {
    const { faces_removed: removed } = await apiJson(`/v1/people/${person.id}`, { method: 'DELETE' });
    closePerson(person.id);
    await loadPeople();
    peopleStatus.textContent = `Removed ${person.name} (${removed} ${removed === 1 ? 'face' : 'faces'}). ${peopleStatus.textContent}`;
    // The focused button is gone; put keyboard users back at the top of the list.
    $('gallery-title').focus();
  } catch (error) {
    showError(`Could not remove ${person.name}`, error);
  }
}

prevButton.addEventListener('click', () => {
  offset = Math.max(0, offset - PAGE_SIZE);
  void loadPeople();
});
nextButton.addEventListener('click', () => {
  offset += PAGE_SIZE;
  void loadPeople();
});
$('people-refresh').addEventListener('click', () => {
  clearError();
  void loadPeople();
});

// ------------------------------------------------------------------ enroll

const OUTCOMES = {
  enrolled: () => 'added',
  enrolled_one_of_several: (o) => `added the subject (the face at the centre, else the largest) of ${o.faces_found} faces`,
  already_enrolled: () => 'already in the gallery, skipped',
  no_face: () => 'no face found',
  unreadable: (o) => `not a readable image${o.message ? ` (${o.message})` : ''}`,
  failed: (o) => `failed${o.message ? ` (${o.message})` : ''}`,
};

const enrollForm = $('enroll-form');
const enrollStatus = $('enroll-status');
const enrollOutcomes = $('enroll-outcomes');

enrollForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = $('enroll-name').value.trim();
  const files = [...$('enroll-files').files];
  if (!name || files.length === 0) return;
  const submit = $('enroll-submit');
  submit.disabled = true;
  clearError();
  enrollOutcomes.replaceChildren();
  enrollStatus.textContent = `Adding ${name}…`;
  try {
    const person = await apiJson('/v1/people', { method: 'POST', json: { name } });
    const form = new FormData();
    files.forEach((file) => form.append('image', file, file.name));
    const { outcomes } = await apiJson(`/v1/people/${person.id}/faces`, { method: 'POST', form });
    const added = outcomes.filter((o) => o.status.startsWith('enrolled')).length;
    enrollOutcomes.replaceChildren(
      ...outcomes.map((outcome, i) => {
        const item = el('li', {
          className: outcome.status.startsWith('enrolled') ? '' : 'bad',
          textContent: `${files[i]?.name ?? `Photo ${i + 1}`}: ${(OUTCOMES[outcome.status] ?? (() => outcome.status))(outcome)}`,
        });
        item.dataset.testid = 'enroll-outcome';
        item.dataset.status = outcome.status;
        return item;
      }),
    );
    enrollStatus.textContent = `${person.name}: ${added} of ${files.length} ${files.length === 1 ? 'photo' : 'photos'} added.`;
    enrollForm.reset();
    await loadPeople();
  } catch (error) {
    enrollStatus.textContent = '';
    showError(`Could not add ${name}`, error);
  } finally {
    submit.disabled = false;
  }
});

void loadPeople();
