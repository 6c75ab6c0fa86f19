// The "Live" view of the web page: this browser's camera, sent picture by picture over a WebSocket to GET /v1/live,
// with each face's box, name (per track, as the server decides it) and emotion drawn on the picture as answers
// come. One picture is in flight at a time: the next is taken when the answer to the previous one arrived. What is
// shown is the picture that was analysed, so a box is never drawn where a face was a moment ago (on a slow server
// the view is choppier rather than wrong). The protocol is in docs/http.md. A plain ES module beside app.js; it
// shares only the API key field (api.js).

import { $, api, ApiError, apiKeyInput, el } from './api.js';

const PROTOCOL = 'facedb.live.v1';
const KEY_PROTOCOL = 'facedb.key.';
/** Longest side of the pictures sent: enough for faces across a room, small enough to send often. */
const MAX_SIDE = 640;
const JPEG_QUALITY = 0.8;
/** At most this many pictures a second, however fast the server answers. */
const MAX_FPS = 12;
const TRACKS_SHOWN = 8;
/** How long a stopped view waits for the tracks' summaries before it closes the connection itself. */
const END_WAIT_MS = 5000;

const startButton = $('live-start');
const stopButton = $('live-stop');
const status = $('live-status');
const stats = $('live-stats');
const stage = $('live-stage');
const video = $('live-video');
const picture = $('live-picture');
const boxes = $('live-boxes');
const trackList = $('live-tracks');

const capture = document.createElement('canvas');

/** The running view: camera stream, socket, counters; undefined when stopped. */
let live;

const say = (text, problem = false) => {
  status.textContent = text;
  status.classList.toggle('live-problem', problem);
};

/** A key as a WebSocket subprotocol token: unpadded base64url of its UTF-8 bytes (browsers cannot set headers here). */
function keyProtocol(key) {
  const bytes = new TextEncoder().encode(key);
  const base64 = btoa(String.fromCharCode(...bytes));
  return KEY_PROTOCOL + base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Why getUserMedia failed, in words a user can act on. */
function cameraProblem(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'The camera was not allowed. Allow it for this page in the browser (the camera icon in the address bar) and start again.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found. Connect one and start again.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The camera could not be started: another program may be using it.';
    default:
      return `The camera could not be started (${error?.message ?? error}).`;
  }
}

async function start() {
  if (live) return;
  if (!navigator.mediaDevices?.getUserMedia) {
    say('This browser offers no camera to this page: open it as https:// or on localhost.', true);
    return;
  }
  startButton.disabled = true;
  say('Starting the camera…');
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  } catch (error) {
    startButton.disabled = false;
    say(cameraProblem(error), true);
    return;
  }
  live = { stream, socket: undefined, opened: false, answered: 0, dropped: 0, started: performance.now(), lastSent: 0, timer: undefined };
  // A camera unplugged (or taken away by the system) ends the view with a message, not a frozen picture.
  for (const track of stream.getVideoTracks()) track.addEventListener('ended', () => stop('The camera stopped sending pictures.', true));
  video.srcObject = stream;
  stage.hidden = false;
  stopButton.hidden = false;
  startButton.hidden = true;
  startButton.disabled = false;
  // autoplay starts only the first stream an element gets: after a stop, a paused video would send black pictures.
  video.play().catch(() => {});
  connect(live);
}

function connect(view) {
  const key = apiKeyInput.value.trim();
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/live`;
  const socket = new WebSocket(url, key ? [PROTOCOL, keyProtocol(key)] : [PROTOCOL]);
  view.socket = socket;
  say('Connecting to the server…');
  socket.addEventListener('message', (event) => {
    if (typeof event.data !== 'string') return;
    const message = JSON.parse(event.data);
    // The answer to the end message, after the view stopped: the summaries of the tracks that were still open.
    if (message.type === 'ended') {
      for (const ended of message.events) showTrack(ended);
      return;
    }
    if (live !== view) return;
    answer(view, message);
  });
  socket.addEventListener('close', (event) => {
    if (live !== view) return;
    if (!view.opened) void explainRefusal();
    else stop(view.closing ?? `The server closed the live view${event.reason ? ` (${event.reason})` : ''}.`, true);
  });
}

/** The browser hides why a WebSocket was refused: ask the API the same question with the same key. */
async function explainRefusal() {
  let text = 'Could not open the live connection to the server.';
  try {
    await api('/v1/people?limit=1');
  } catch (error) {
    if (error instanceof ApiError) text = `The server refused the live view: ${error.message.replace(/\.$/, '')} (${error.code}).`;
    if (error.code === 'unauthorized' || error.code === 'forbidden') text += ' Check the API key at the top of the page.';
  }
  stop(text, true);
}

function answer(view, message) {
  switch (message.type) {
    case 'ready':
      view.opened = true;
      say('Live: faces are named as they are seen.');
      sendPicture(view);
      break;
    case 'frame':
      view.answered += 1;
      view.dropped = message.dropped;
      showPicture();
      drawFaces(message);
      for (const event of message.events) if (event.type === 'track_ended') showTrack(event);
      showStats(view, message);
      scheduleNext(view);
      break;
    case 'busy':
      stats.textContent = 'The server is busy with photos; waiting a moment…';
      view.timer = setTimeout(() => sendPicture(view), message.retry_ms);
      break;
    case 'error':
      if (message.frame === undefined) {
        // About the connection, which the server closes next: say why.
        view.closing = `The server closed the live view: ${message.message} (${message.code}).`;
        return;
      }
      stats.textContent = `A picture was refused: ${message.message} (${message.code}).`;
      scheduleNext(view);
      break;
  }
}

function scheduleNext(view) {
  const wait = Math.max(0, 1000 / MAX_FPS - (performance.now() - view.lastSent));
  view.timer = setTimeout(() => sendPicture(view), wait);
}

/** Takes the camera's current picture, at most MAX_SIDE pixels on its longer side, and sends it as a JPEG. */
function sendPicture(view) {
  if (live !== view || view.socket.readyState !== WebSocket.OPEN) return;
  if (video.readyState < 2 || video.videoWidth === 0) {
    view.timer = setTimeout(() => sendPicture(view), 100);
    return;
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
  capture.width = Math.round(video.videoWidth * scale);
  capture.height = Math.round(video.videoHeight * scale);
  capture.getContext('2d').drawImage(video, 0, 0, capture.width, capture.height);
  capture.toBlob(
    (blob) => {
      if (live !== view || view.socket.readyState !== WebSocket.OPEN) return;
      if (!blob) {
        view.timer = setTimeout(() => sendPicture(view), 100);
        return;
      }
      view.lastSent = performance.now();
      view.socket.send(blob);
    },
    'image/jpeg',
    JPEG_QUALITY,
  );
}

/** Shows the picture just answered for: the capture canvas still holds it (the next is taken after the answer). */
function showPicture() {
  picture.width = capture.width;
  picture.height = capture.height;
  picture.getContext('2d').drawImage(capture, 0, 0);
  picture.hidden = false;
}

const percent = (value, whole) => `${((value / whole) * 100).toFixed(3)}%`;

/** The face's label: its name once its track is decided (… before), the confidence, and its emotion now. */
function labelOf(face) {
  const name = !face.decided ? '…' : (face.person ?? 'Unknown');
  const sure = face.person && face.confidence !== null ? ` ${Math.round(face.confidence * 100)}%` : '';
  return { name: `#${face.track} ${name}${sure}`, emotion: face.emotion ?? '' };
}

/** Boxes in percent of the picture, so they sit on the video at any size it is shown. */
function drawFaces(message) {
  const { width, height } = message.image;
  boxes.replaceChildren(
    ...message.faces.map((face) => {
      const { name, emotion } = labelOf(face);
      const known = face.person !== null;
      const label = el('span', { className: 'live-label' }, el('span', { className: 'live-name', textContent: name }));
      if (emotion) label.append(el('span', { className: 'live-emotion', textContent: emotion }));
      const box = el('div', { className: `live-box${known ? ' live-known' : ''}` }, label);
      // Near the top edge the label goes under the box instead, inside the picture.
      if (face.box.y / height < 0.12) box.classList.add('live-label-below');
      Object.assign(box.style, {
        left: percent(face.box.x, width),
        top: percent(face.box.y, height),
        width: percent(face.box.width, width),
        height: percent(face.box.height, height),
      });
      box.dataset.testid = 'live-box';
      box.dataset.track = String(face.track);
      return box;
    }),
  );
}

function showStats(view, message) {
  const seconds = (performance.now() - view.started) / 1000;
  const rate = seconds > 0 ? (view.answered / seconds).toFixed(1) : '0';
  const faces = message.faces.length;
  const dropped = view.dropped > 0 ? ` · ${view.dropped} dropped` : '';
  stats.textContent = `${faces} ${faces === 1 ? 'face' : 'faces'} · ${rate} pictures/s · ${Math.round(message.took_ms)} ms each${dropped}`;
}

/** A finished track: its best face, its final name and how long it was seen. */
function showTrack(event) {
  const name = event.person ?? 'Unknown';
  const sure = event.person && event.confidence !== null ? `, ${Math.round(event.confidence * 100)}%` : '';
  const feeling = event.emotion ? ` · mostly ${event.emotion}` : '';
  const text = `#${event.track} ${name}${sure} · ${(event.duration_ms / 1000).toFixed(1)} s${feeling}`;
  const item = el('li', { className: event.person ? 'live-known' : '' });
  if (event.crop) item.append(el('img', { src: `data:image/jpeg;base64,${event.crop}`, alt: '', width: 40, height: 40 }));
  item.append(el('span', { textContent: text }));
  item.dataset.testid = 'live-track';
  trackList.prepend(item);
  while (trackList.children.length > TRACKS_SHOWN) trackList.lastElementChild.remove();
}

/** Stops the camera and the connection; `text` says why when it was not the user's choice. */
function stop(text = 'The camera is off.', problem = false) {
  const view = live;
  live = undefined;
  if (view) {
    clearTimeout(view.timer);
    view.stream.getTracks().forEach((track) => track.stop());
    const socket = view.socket;
    if (socket && view.opened && socket.readyState === WebSocket.OPEN) {
      // The server answers with every open track's summary (listed as it arrives) and closes the connection itself;
      // one that does not is closed after END_WAIT_MS.
      socket.send(JSON.stringify({ type: 'end' }));
      setTimeout(() => {
        if (socket.readyState <= WebSocket.OPEN) socket.close(1000, 'stopped');
      }, END_WAIT_MS);
    } else if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, 'stopped');
  }
  video.srcObject = null;
  picture.hidden = true;
  boxes.replaceChildren();
  stage.hidden = true;
  stats.textContent = '';
  stopButton.hidden = true;
  startButton.hidden = false;
  say(text, problem);
}

startButton.addEventListener('click', () => void start());
stopButton.addEventListener('click', () => stop());
// Leaving the page or its tab turns the camera off: no pictures are taken while nobody looks.
document.addEventListener('visibilitychange', () => {
  if (document.hidden && live) stop('The camera was turned off when the page was hidden. Start it again to go on.');
});
window.addEventListener('pagehide', () => {
  if (live) stop();
});
