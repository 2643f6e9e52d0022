// The video wall: latest frames of the selected incident's cameras; a faulty camera shows its fault, never a stale picture.
import { t } from "./i18n.js";

const REFRESH_MS = 4000;
const MAX_TILES = 9;

export class VideoWall {
  constructor(element, titleElement, token, faultOf) {
    this.faultOf = faultOf;  // camera id -> current fault from the live state, or null
    this.element = element;
    this.titleElement = titleElement;
    this.token = token;
    this.cameras = [];
    this.urls = new Map();
    setInterval(() => this.refresh(), REFRESH_MS);
  }

  show(incident) {
    const cameras = incident ? (incident.cameras || []).slice(0, MAX_TILES) : [];
    if (incident && cameras.join() === this.cameras.join() && this.element.children.length) return;
    this.cameras = cameras;
    this.titleElement.textContent = incident ? `${cameras.length}` : "";
    this.element.replaceChildren();
    if (!incident || !cameras.length) {
      const empty = document.createElement("div");
      empty.className = "empty";
      empty.textContent = t(incident ? "no_cameras" : "select_incident");
      this.element.append(empty);
      return;
    }
    for (const id of cameras) {
      const tile = document.createElement("div");
      tile.className = "tile nodata";
      tile.dataset.camera = id;
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
    const old = tile.querySelector("img");
    if (old) old.remove();  // never keep a stale picture
    tile.className = fault ? "tile fault" : "tile nodata";
    tile.dataset.fault = fault || "";
    tile.querySelector(".fault-label").textContent = fault ? `⚠ ${t(fault)}` : t("no_frame");
  }

  async load(tile) {
    const id = tile.dataset.camera;
    const known = this.faultOf(id);
    if (known) return this.showFault(tile, known);
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
