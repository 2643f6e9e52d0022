// The video wall: the selected camera, or the selected incident's cameras. The first MAX_LIVE are live: the
// gateway's MJPEG of their sampled frames (GET /api/cameras/{id}/live, a few frames/s); the others show their
// latest frame, refreshed. A faulty camera shows its fault, never a stale picture.
import { t } from "./i18n.js";

const REFRESH_MS = 4000;
const MAX_TILES = 9;
const MAX_LIVE = 4;

export class VideoWall {
  constructor(element, titleElement, token, faultOf) {
    this.faultOf = faultOf;  // camera id -> current fault from the live state, or null
    this.element = element;
    this.titleElement = titleElement;
    this.token = token;
    this.cameras = [];
    this.urls = new Map();
    this.streams = new Map();  // camera id -> AbortController of its live stream
    setInterval(() => this.refresh(), REFRESH_MS);
  }

  showCamera(id) {  // a camera chosen on the map: that camera alone, live
    this.show({ cameras: [id] }, `${id}`);
  }

  stopStreams() {
    for (const controller of this.streams.values()) controller.abort();
    this.streams.clear();
  }

  show(incident, title) {
    const cameras = incident ? (incident.cameras || []).slice(0, MAX_TILES) : [];
    if (incident && cameras.join() === this.cameras.join() && this.element.children.length) return;
    this.stopStreams();
    this.cameras = cameras;
    this.titleElement.textContent = incident ? (title || `${cameras.length}`) : "";
    this.element.replaceChildren();
    if (!incident || !cameras.length) {
      const empty = document.createElement("div");
      empty.className = "empty";
      empty.textContent = t(incident ? "no_cameras" : "select_incident");
      this.element.append(empty);
      return;
    }
    for (const [index, id] of cameras.entries()) {
      const tile = document.createElement("div");
      tile.className = "tile nodata";
      tile.dataset.camera = id;
      if (index < MAX_LIVE) tile.dataset.live = "1";
      tile.innerHTML = `<div class="fault-label"></div><div class="cam"></div>`;
      tile.querySelector(".cam").textContent = id;
      tile.querySelector(".fault-label").textContent = t("no_frame");
      this.element.append(tile);
    }
    this.refresh();
  }

  async refresh() {
    for (const tile of this.element.querySelectorAll(".tile")) this.load(tile);
  }

  showFault(tile, fault) {
    // a live stream is not aborted here: the gateway ends it with the same fault within one frame interval
    const old = tile.querySelector("img");
    if (old) old.remove();  // never keep a stale picture
    tile.className = fault ? "tile fault" : "tile nodata";
    tile.dataset.fault = fault || "";
    tile.querySelector(".fault-label").textContent = fault ? `⚠ ${t(fault)}` : t("no_frame");
  }

  showFrame(tile, blob) {
    const id = tile.dataset.camera;
    const url = URL.createObjectURL(blob);
    const old = tile.querySelector("img");
    const img = old || document.createElement("img");
    img.src = url;
    if (!old) tile.prepend(img);
    if (this.urls.has(id)) URL.revokeObjectURL(this.urls.get(id));
    this.urls.set(id, url);
    tile.className = tile.dataset.live ? "tile live streaming" : "tile live";
    tile.dataset.frames = String(Number(tile.dataset.frames || 0) + 1);
    tile.querySelector(".fault-label").textContent = "";
  }

  async stream(tile) {  // the live view: MJPEG parts read from a fetch body (the token goes in a header, not the URL)
    const id = tile.dataset.camera;
    const controller = new AbortController();
    this.streams.set(id, controller);
    try {
      const response = await fetch(`/api/cameras/${encodeURIComponent(id)}/live`, {
        headers: { Authorization: `Bearer ${this.token}` }, cache: "no-store", signal: controller.signal });
      if (response.status !== 200) {
        const body = await response.json().catch(() => ({}));
        tile.querySelector(".fault-label").textContent = body.detail || t("no_frame");
        return;
      }
      const reader = response.body.getReader();
      let buffer = new Uint8Array(0);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = concat(buffer, value);
        for (let part = nextPart(buffer); part; part = nextPart(buffer)) {
          buffer = buffer.subarray(part.end);
          if (part.type === "image/jpeg") this.showFrame(tile, new Blob([part.body], { type: "image/jpeg" }));
          else this.showFault(tile, JSON.parse(new TextDecoder().decode(part.body)).fault);
        }
      }
    } catch { /* aborted, or the gateway went away: the next refresh starts again */ }
    finally { if (this.streams.get(id) === controller) this.streams.delete(id); }
  }

  async load(tile) {
    const id = tile.dataset.camera;
    const known = this.faultOf(id);
    if (known) return this.showFault(tile, known);
    if (tile.dataset.live) {
      if (!this.streams.has(id)) this.stream(tile);
      return;
    }
    let response;
    try {
      response = await fetch(`/api/cameras/${encodeURIComponent(id)}/thumbnail`, {
        headers: { Authorization: `Bearer ${this.token}` }, cache: "no-store" });
    } catch { return; }
    const label = tile.querySelector(".fault-label");
    const old = tile.querySelector("img");
    if (response.status === 200) {
      const url = URL.createObjectURL(await response.blob());
      const img = old || document.createElement("img");
      img.src = url;
      if (!old) tile.prepend(img);
      if (this.urls.has(id)) URL.revokeObjectURL(this.urls.get(id));
      this.urls.set(id, url);
      tile.className = "tile live";
      label.textContent = "";
      return;
    }
    const body = response.status === 409 ? await response.json().catch(() => ({})) : {};
    this.showFault(tile, body.detail || null);
  }
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a); out.set(b, a.length);
  return out;
}

// One part of multipart/x-mixed-replace: headers, a blank line, Content-Length bytes, CRLF; null until complete.
function nextPart(buffer) {
  let sep = -1;
  for (let i = 0; i + 3 < buffer.length; i++) {
    if (buffer[i] === 13 && buffer[i + 1] === 10 && buffer[i + 2] === 13 && buffer[i + 3] === 10) { sep = i; break; }
  }
  if (sep < 0) return null;
  const head = new TextDecoder().decode(buffer.subarray(0, sep));
  const length = Number((/Content-Length:\s*(\d+)/i.exec(head) || [])[1]);
  const type = ((/Content-Type:\s*([^\r\n;]+)/i.exec(head) || [])[1] || "").trim();
  if (!Number.isFinite(length) || buffer.length < sep + 4 + length + 2) return null;
  return { type, body: buffer.slice(sep + 4, sep + 4 + length), end: sep + 4 + length + 2 };
}
