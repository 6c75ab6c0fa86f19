// The "Clusters" view of the web page: faces added without names, grouped by the server into candidate people,
// shown with thumbnails and a name box each; the person a cluster looks like (accept or reject the suggestion),
// "take this face out", merge two clusters, remove one. A plain ES module over the /v1 API, beside app.js; it
// shares only the API key field and the gallery's Refresh button with it.

import { $, api, apiKeyInput, el, serverInfo } from './api.js';
import { formatConfidence } from './result.js';
import { cropImage, cropLoader, failure, plural, refreshPersonNames, sourceText, withConfirmedForce } from './ui.js';

const PAGE_SIZE = 24;
const SAMPLES = 6;
/** "Show all faces" lists at most this many (the largest clusters are reviewed a page at a time anyway). */
const ALL_FACES = 200;

const status = $('fdbc-status');
const list = $('fdbc-list');
const uploadForm = $('fdbc-upload');
const filesInput = $('fdbc-files');
const crops = cropLoader();

const say = (text, error = false) => {
  status.textContent = text;
  status.classList.toggle('fdbc-status-error', error);
};
const sayFailure = (what, error) => say(failure(what, error), true);
const json = async (path, options) => (await api(path, options)).json();

async function loadClusters(note = '') {
  list.setAttribute('aria-busy', 'true');
  try {
    const data = await json(`/v1/clusters?limit=${PAGE_SIZE}&samples=${SAMPLES}`);
    crops.revoke();
    list.replaceChildren(...data.items.map((cluster) => clusterItem(cluster, data.items)));
    const shown = data.items.length < data.total ? ` (the ${data.items.length} largest shown)` : '';
    const waiting = data.unclustered_faces > 0 ? `, ${data.unclustered_faces} not grouped yet` : '';
    const summary =
      data.total === 0
        ? 'No unnamed faces are waiting for a name.'
        : `${plural(data.total, 'cluster')}${shown}; ${plural(data.unnamed_faces, 'unnamed face')}${waiting}.`;
    say(note ? `${note} ${summary}` : summary);
    void refreshPersonNames();
  } catch (error) {
    list.replaceChildren();
    sayFailure('Could not load the clusters', error);
  } finally {
    list.removeAttribute('aria-busy');
  }
}

/** After a change: the list again (with `note` first), the gallery's people, focus back at the view's title. */
async function changed(note) {
  await loadClusters(note);
  $('people-refresh')?.click();
  $('fdbc-title').focus();
}

function button(text, className, label, testid, onClick) {
  const node = el('button', { type: 'button', className, textContent: text });
  if (label) node.setAttribute('aria-label', label);
  node.dataset.testid = testid;
  node.addEventListener('click', () => void onClick(node));
  return node;
}

function clusterItem(cluster, shownClusters) {
  const thumbs = el('ul', { className: 'fdbc-thumbs' });
  thumbs.setAttribute('aria-label', `Faces of cluster ${cluster.id}`);
  thumbs.append(...cluster.samples.map((s, i) => thumbItem(cluster, { id: s.face_id, source: s.photo, image_url: s.image_url }, i)));
  const parts = [el('p', { className: 'fdbc-item-title', textContent: `Cluster ${cluster.id} · ${plural(cluster.size, 'face')}` })];
  parts.push(thumbs);
  if (cluster.size > cluster.samples.length) {
    parts.push(button(`Show all ${cluster.size} faces`, 'fdbc-secondary fdbc-small', null, 'fdbc-show-all', (node) => showAll(cluster, thumbs, node)));
  }
  // Below the faces: look first, then say whether the suggestion is right.
  if (cluster.suggestion) parts.push(suggestionBox(cluster));
  parts.push(nameForm(cluster));
  const others = shownClusters.filter((other) => other.id !== cluster.id);
  if (others.length > 0) parts.push(mergeForm(cluster, others));
  parts.push(button('Remove cluster', 'fdbc-secondary fdbc-remove', `Remove cluster ${cluster.id}`, 'fdbc-remove', (node) => removeCluster(cluster, node)));
  const item = el('li', { className: 'fdbc-item' }, ...parts);
  item.dataset.testid = 'fdbc-cluster';
  item.dataset.clusterId = String(cluster.id);
  return item;
}

/** One face of a cluster: its crop, where it came from (as the tooltip and alt text), and "take it out". */
function thumbItem(cluster, face, i) {
  const from = face.source ? `, from ${face.source}` : '';
  const img = cropImage(crops, face.image_url, `Face ${i + 1} of cluster ${cluster.id}${from}`, 64, 'fdbc-thumb');
  if (face.source) img.title = face.source;
  const item = el('li', { className: 'fdbc-thumb' }, img);
  // A face alone in its cluster has nothing to be taken out of.
  if (cluster.size > 1) {
    item.append(button('Take out', 'fdbc-take-out', `Take face ${i + 1} out of cluster ${cluster.id}`, 'fdbc-take-out', (node) => takeFaceOut(cluster, face, i, node)));
  }
  item.dataset.faceId = String(face.id);
  return item;
}

async function showAll(cluster, thumbs, node) {
  node.disabled = true;
  try {
    const page = await json(`/v1/faces?cluster=${cluster.id}&limit=${ALL_FACES}`);
    thumbs.replaceChildren(...page.items.map((f, i) => thumbItem(cluster, { id: f.id, source: sourceText(f.source), image_url: f.image_url }, i)));
    node.remove();
  } catch (error) {
    node.disabled = false;
    sayFailure(`Could not list the faces of cluster ${cluster.id}`, error);
  }
}

/** "Looks like X": the nearest enrolled person within identify's threshold, to accept or reject. */
function suggestionBox(cluster) {
  const { person, distance, confidence } = cluster.suggestion;
  const likely = confidence === null || confidence === undefined ? '' : ` · ${formatConfidence(confidence)} likely`;
  const text = el('p', { className: 'fdbc-suggestion-text' }, 'Looks like ', el('strong', { textContent: person.name }), `${likely} · distance ${distance.toFixed(2)}`);
  const accept = button(`It is ${person.name}`, 'fdbc-small', `Cluster ${cluster.id} is ${person.name}`, 'fdbc-accept', (node) =>
    nameCluster(cluster, person.name, node),
  );
  const reject = button(`Not ${person.name}`, 'fdbc-secondary fdbc-small', `Cluster ${cluster.id} is not ${person.name}`, 'fdbc-reject', (node) =>
    rejectSuggestion(cluster, person, node),
  );
  const box = el('div', { className: 'fdbc-suggestion' }, text, el('div', { className: 'fdbc-row' }, accept, reject));
  box.dataset.testid = 'fdbc-suggestion';
  return box;
}

function nameForm(cluster) {
  const input = el('input', { required: true, autocomplete: 'off', placeholder: 'Name' });
  void serverInfo.then(({ nameMaxLength }) => {
    if (nameMaxLength !== undefined) input.maxLength = nameMaxLength;
  });
  input.setAttribute('list', 'person-names');
  input.setAttribute('aria-label', `Who is in cluster ${cluster.id}`);
  input.dataset.testid = 'fdbc-name';
  const submit = el('button', { type: 'submit', textContent: 'Name' });
  submit.dataset.testid = 'fdbc-name-submit';
  const form = el('form', { className: 'fdbc-name-form' }, input, submit);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // Sent as typed: the server trims it and refuses a blank name with its own message.
    void nameCluster(cluster, input.value, submit);
  });
  return form;
}

function mergeForm(cluster, others) {
  const select = el(
    'select',
    { required: true },
    el('option', { value: '', textContent: 'Merge into…' }),
    ...others.map((other) => el('option', { value: String(other.id), textContent: `Cluster ${other.id} (${plural(other.size, 'face')})` })),
  );
  select.setAttribute('aria-label', `Merge cluster ${cluster.id} into`);
  select.dataset.testid = 'fdbc-merge-into';
  const submit = el('button', { type: 'submit', className: 'fdbc-secondary', textContent: 'Merge' });
  submit.setAttribute('aria-label', `Merge cluster ${cluster.id}`);
  submit.dataset.testid = 'fdbc-merge-submit';
  const form = el('form', { className: 'fdbc-name-form fdbc-merge-form' }, select, submit);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void mergeCluster(cluster, Number(select.value), submit);
  });
  return form;
}

async function nameCluster(cluster, name, node) {
  node.disabled = true;
  try {
    const { answer: result, declined } = await withConfirmedForce(
      (force) => json(`/v1/clusters/${cluster.id}/name`, { method: 'POST', json: force ? { name, force } : { name } }),
      `Add cluster ${cluster.id} to ${name.trim()} anyway?`,
    );
    if (declined !== undefined) {
      node.disabled = false;
      say(`Cluster ${cluster.id} was not named ${name.trim()}: ${declined} (conflict).`, true);
      return;
    }
    const left = result.faces_left > 0 ? ` ${plural(result.faces_left, 'face')} stayed (photos ${result.person.name} already has).` : '';
    await changed(`Cluster ${cluster.id} is now ${result.person.name} (${plural(result.person.face_count, 'face')}).${left}`);
  } catch (error) {
    node.disabled = false;
    sayFailure(`Could not name cluster ${cluster.id}`, error);
  }
}

async function rejectSuggestion(cluster, person, node) {
  node.disabled = true;
  try {
    await json(`/v1/clusters/${cluster.id}/reject`, { method: 'POST', json: { person: person.id } });
    await changed(`Cluster ${cluster.id} is not ${person.name}: it will not be suggested or added to them again.`);
  } catch (error) {
    node.disabled = false;
    sayFailure(`Could not record that cluster ${cluster.id} is not ${person.name}`, error);
  }
}

async function takeFaceOut(cluster, face, i, node) {
  node.disabled = true;
  try {
    await json('/v1/faces/unassign', { method: 'POST', json: { faces: [face.id] } });
    await changed(`Took face ${i + 1} out of cluster ${cluster.id}; it will not be grouped back into it.`);
  } catch (error) {
    node.disabled = false;
    sayFailure(`Could not take face ${i + 1} out of cluster ${cluster.id}`, error);
  }
}

async function mergeCluster(cluster, into, node) {
  if (!into) return;
  node.disabled = true;
  try {
    await json(`/v1/clusters/${cluster.id}/merge`, { method: 'POST', json: { into } });
    await changed(`Merged cluster ${cluster.id} into cluster ${into}.`);
  } catch (error) {
    node.disabled = false;
    sayFailure(`Could not merge cluster ${cluster.id} into cluster ${into}`, error);
  }
}

async function removeCluster(cluster, node) {
  const faces = plural(cluster.size, 'face');
  if (!confirm(`Remove cluster ${cluster.id} and its ${faces}? Their crops, photos and embeddings are erased; this cannot be undone.`)) return;
  node.disabled = true;
  try {
    const result = await json(`/v1/clusters/${cluster.id}`, { method: 'DELETE' });
    await loadClusters(`Removed cluster ${cluster.id} (${plural(result.faces_removed, 'face')}).`);
    $('fdbc-title').focus();
  } catch (error) {
    node.disabled = false;
    sayFailure(`Could not remove cluster ${cluster.id}`, error);
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
    const data = await json('/v1/faces', { method: 'POST', form });
    const faces = data.outcomes.reduce((n, outcome) => n + outcome.face_ids.length, 0);
    const problems = data.outcomes
      .map((outcome, i) => (outcome.status === 'enrolled' ? null : `${files[i]?.name ?? `photo ${i + 1}`}: ${outcome.status.replace('_', ' ')}`))
      .filter(Boolean);
    uploadForm.reset();
    await loadClusters(`Added ${plural(faces, 'face')}.${problems.length ? ` ${problems.join('; ')}.` : ''}`);
  } catch (error) {
    sayFailure('Could not add the photos', error);
  } finally {
    submit.disabled = false;
  }
});

$('fdbc-refresh').addEventListener('click', () => void loadClusters());
$('fdbc-recluster').addEventListener('click', async () => {
  say('Re-clustering every unnamed face…');
  try {
    const run = await json('/v1/clusters', { method: 'POST', json: { full: true } });
    await loadClusters(`Re-clustered ${plural(run.faces_clustered, 'face')}.`);
  } catch (error) {
    sayFailure('Could not re-cluster', error);
  }
});
apiKeyInput.addEventListener('change', () => void loadClusters());

void loadClusters();
