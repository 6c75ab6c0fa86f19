// What the page's modules share: the one way to call the /v1 API (with the API key field's key) and its error,
// what the server says about itself, and a small element builder.

export const $ = (id) => document.getElementById(id);

/** An element with properties and children: el('p', { className: 'x' }, 'text', child). */
export const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export const apiKeyInput = $('api-key');

/** fetch with the API key; rejects with the error envelope's code and message on any failure. */
export async function api(path, { method = 'GET', json, form } = {}) {
  const headers = {};
  const key = apiKeyInput.value.trim();
  if (key) headers['x-api-key'] = key;
  let body = form;
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body });
  } catch {
    throw new ApiError('network', 'Could not reach the server.');
  }
  if (response.ok) return response;
  let { status: code, statusText: message } = response;
  try {
    ({ code, message } = (await response.json()).error);
  } catch {
    // Not the JSON envelope (a proxy's error page, say): the status line is all there is.
  }
  throw new ApiError(code, message || `HTTP ${response.status}`);
}

/**
 * What the page learns from the server instead of hard-coding it: whether it runs without API keys, and the
 * limits its OpenAPI document declares (the same schemas the server validates with).
 */
export const serverInfo = (async () => {
  // Sent without a key on purpose: a server with keys refuses every /v1 route to a caller without one (401),
  // a server in open mode answers. Any other outcome (network, 5xx) says nothing, so the key field stays.
  const probe = await fetch('/v1/people?limit=1').catch(() => null);
  const openMode = probe?.ok === true;
  const spec = await fetch('/openapi.json')
    .then((response) => (response.ok ? response.json() : null))
    .catch(() => null);
  const nameSchema = spec?.paths?.['/v1/people']?.post?.requestBody?.content?.['application/json']?.schema?.properties?.name;
  return { openMode, nameMaxLength: typeof nameSchema?.maxLength === 'number' ? nameSchema.maxLength : undefined };
})();
