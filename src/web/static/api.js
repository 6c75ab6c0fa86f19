// What the page's modules share: the one way to call the /v1 API (with the API key field's key) and its error.

export const $ = (id) => document.getElementById(id);

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
