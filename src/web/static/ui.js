// What the gallery, person, cluster and search views share: counted words, an API failure as one sentence, face
// crops fetched with the API key, where a face came from, and the "do it anyway?" step of a refused change.

import { api, ApiError, el } from './api.js';

/** One list of everyone's names for every "which person" field (list="person-names"); any other name is allowed too. */
const personNames = el('datalist', { id: 'person-names' });
document.body.append(personNames);
let idByName = new Map();

/** Refills the list of names (after a view loads or a change); a failure only loses the suggestions. */
export async function refreshPersonNames() {
  try {
    const page = await (await api('/v1/people?limit=1000')).json();
    personNames.replaceChildren(...page.items.map((person) => el('option', { value: person.name })));
    idByName = new Map(page.items.map((person) => [person.name, person.id]));
  } catch {
    // Only a convenience: the fields take any name.
  }
}

/** The id of the person of exactly that name among those last listed, if any. */
export const personIdByName = (name) => idByName.get(name);

export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "Could not X: the server's message (its code)." */
export const failure = (what, error) => `${what}: ${error.message.replace(/\.$/, '')} (${error.code ?? error.name}).`;

/** Where a stored face came from: its photo's path, or the upload's file name. */
export function sourceText(source) {
  if (source?.path) return source.path;
  return source?.upload_name ? `upload ${source.upload_name}` : 'an upload';
}

/**
 * Crops need the API key, so they are fetched as blobs rather than linked with <img src>. One per view: `revoke`
 * frees the view's object URLs when it is drawn again.
 */
export function cropLoader() {
  let urls = [];
  return {
    async load(img, url) {
      try {
        const objectUrl = URL.createObjectURL(await (await api(url)).blob());
        urls.push(objectUrl);
        img.src = objectUrl;
      } catch {
        img.alt += ' (no image)';
      }
    },
    revoke() {
      urls.forEach((url) => URL.revokeObjectURL(url));
      urls = [];
    },
  };
}

/** A face crop <img>, loading through `crops`. */
export function cropImage(crops, url, alt, size, testid) {
  const img = el('img', { alt, width: size, height: size });
  img.dataset.testid = testid;
  void crops.load(img, url);
  return img;
}

/**
 * Runs `change(force)` once; when the server refuses it as a conflict (409: a look-alike name, a cluster far from
 * the person or rejected for them), shows the server's reason and runs it again with force if the user says so.
 * Resolves to { answer }, or { declined: the server's reason } when the user kept things as they were.
 */
export async function withConfirmedForce(change, question) {
  try {
    return { answer: await change(false) };
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 'conflict') throw error;
    const reason = error.message.replace(/\.$/, '');
    if (!confirm(`${reason}.\n\n${question}`)) return { declined: reason };
    return { answer: await change(true) };
  }
}
