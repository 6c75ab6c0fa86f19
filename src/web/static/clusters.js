// The "Clusters" view of the web page: faces added without names, grouped by the server into candidate people,
// shown with thumbnails and a name box each. A plain ES module over the /v1 API, beside app.js; it shares only
// the API key field and the gallery's Refresh button with it.

import { $, api, apiKeyInput, serverInfo } from './api.js';

const PAGE_SIZE = 24;
const SAMPLES = 6;

const status = $('fdbc-status');
const list = $('fdbc-list');
const uploadForm = $('fdbc-upload');
const filesInput = $('fdbc-files');
let thumbUrls = [];


const say = (text) => {
  status.textContent = text;
};
const failure = (what, error) => say(`${what}: ${error.message.replace(/\.$/, '')} (${error.code ?? error.name}).`);
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

async function loadClusters(note = '') {
  list.setAttribute('aria-busy', 'true');
  try {
    const data = await (await api(`/v1/clusters?limit=${PAGE_SIZE}&samples=${SAMPLES}`)).json();
    thumbUrls.forEach((url) => URL.revokeObjectURL(url));
    thumbUrls = [];
    list.replaceChildren(...data.items.map(clusterItem));
    const shown = data.items.length < data.total ? ` (the ${data.items.length} largest shown)` : '';
    const waiting = data.unclustered_faces > 0 ? `, ${data.unclustered_faces} not grouped yet` : '';
    const summary =
      data.total === 0
        ? 'No unnamed faces are waiting for a name.'
        : `${plural(data.total, 'cluster')}${shown}; ${plural(data.unnamed_faces, 'unnamed face')}${waiting}.`;
    say(note ? `${note} ${summary}` : summary);
  } catch (error) {
    list.replaceChildren();
    failure('Could not load the clusters', error);
  } finally {
    list.removeAttribute('aria-busy');
  }
}

function clusterItem(cluster) {
  const item = document.createElement('li');
  item.className = 'fdbc-item';
  item.dataset.testid = 'fdbc-cluster';
  item.dataset.clusterId = String(cluster.id);
  const title = document.createElement('p');
  title.className = 'fdbc-item-title';
  title.textContent = `Cluster ${cluster.id} · ${plural(cluster.size, 'face')}`;
  const thumbs = document.createElement('div');
  thumbs.className = 'fdbc-thumbs';
  for (const [i, sample] of cluster.samples.entries()) {
    const img = document.createElement('img');
    img.alt = `Face ${i + 1} of cluster ${cluster.id}${sample.photo ? `, from ${sample.photo}` : ''}`;
    img.dataset.testid = 'fdbc-thumb';
    thumbs.append(img);
    void loadThumb(img, sample.image_url);
  }
  const form = document.createElement('form');
  form.className = 'fdbc-name-form';
  const input = document.createElement('input');
  input.required = true;
  void serverInfo.then(({ nameMaxLength }) => {
    if (nameMaxLength !== undefined) input.maxLength = nameMaxLength;
  });
  input.autocomplete = 'off';
  input.placeholder = 'Name';
  input.setAttribute('aria-label', `Who is in cluster ${cluster.id}`);
  input.dataset.testid = 'fdbc-name';
  const button = document.createElement('button');
  button.type = 'submit';
  button.textContent = 'Name';
  button.dataset.testid = 'fdbc-name-submit';
  form.append(input, button);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // Sent as typed: the server trims it and refuses a blank name with its own message.
    void nameCluster(cluster, input.value, button);
  });
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'fdbc-secondary fdbc-remove';
  remove.textContent = 'Remove cluster';
  remove.setAttribute('aria-label', `Remove cluster ${cluster.id}`);
  remove.dataset.testid = 'fdbc-remove';
  remove.addEventListener('click', () => void removeCluster(cluster, remove));
  item.append(title, thumbs, form, remove);
  return item;
}

/** Thumbnails need the API key, so they are fetched as blobs rather than linked with <img src>. */
async function loadThumb(img, url) {
  try {
    const objectUrl = URL.createObjectURL(await (await api(url)).blob());
    thumbUrls.push(objectUrl);
    img.src = objectUrl;
  } catch {
    img.alt += ' (no image)';
  }
}

async function nameCluster(cluster, name, button) {
  button.disabled = true;
  try {
    const result = await (await api(`/v1/clusters/${cluster.id}/name`, { method: 'POST', json: { name } })).json();
    const left = result.faces_left > 0 ? ` ${plural(result.faces_left, 'face')} stayed (photos ${result.person.name} already has).` : '';
    await loadClusters(`Cluster ${cluster.id} is now ${result.person.name} (${plural(result.person.face_count, 'face')}).${left}`);
    // The gallery list shows people: let it show the new one.
    $('people-refresh')?.click();
    $('fdbc-title').focus();
  } catch (error) {
    button.disabled = false;
    failure(`Could not name cluster ${cluster.id}`, error);
  }
}

async function removeCluster(cluster, button) {
  const faces = plural(cluster.size, 'face');
  if (!confirm(`Remove cluster ${cluster.id} and its ${faces}? Their crops, photos and embeddings are erased; this cannot be undone.`)) return;
  button.disabled = true;
  try {
    const result = await (await api(`/v1/clusters/${cluster.id}`, { method: 'DELETE' })).json();
    await loadClusters(`Removed cluster ${cluster.id} (${plural(result.faces_removed, 'face')}).`);
    $('fdbc-title').focus();
  } catch (error) {
    button.disabled = false;
    failure(`Could not remove cluster ${cluster.id}`, error);
  }
}

uploadForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const files = [...filesInput.files];
  if (files.length === 0) return;
  const form = new FormData();
  for (const file of files) form.append('image', file, file.name);
  const submit = $('fdbc-upload-submit');
  submit.disabled = true;
  say(`Adding ${plural(files.length, 'photo')}…`);
  try {
    const data = await (await api('/v1/faces', { method: 'POST', form })).json();
    const faces = data.outcomes.reduce((n, outcome) => n + outcome.face_ids.length, 0);
    const problems = data.outcomes
      .map((outcome, i) => (outcome.status === 'enrolled' ? null : `${files[i]?.name ?? `photo ${i + 1}`}: ${outcome.status.replace('_', ' ')}`))
      .filter(Boolean);
    uploadForm.reset();
    await loadClusters(`Added ${plural(faces, 'face')}.${problems.length ? ` ${problems.join('; ')}.` : ''}`);
  } catch (error) {
    failure('Could not add the photos', error);
  } finally {
    submit.disabled = false;
  }
});

$('fdbc-refresh').addEventListener('click', () => void loadClusters());
$('fdbc-recluster').addEventListener('click', async () => {
  say('Re-clustering every unnamed face…');
  try {
    const run = await (await api('/v1/clusters', { method: 'POST', json: { full: true } })).json();
    await loadClusters(`Re-clustered ${plural(run.faces_clustered, 'face')}.`);
  } catch (error) {
    failure('Could not re-cluster', error);
  }
});
apiKeyInput.addEventListener('change', () => void loadClusters());

void loadClusters();
