// Boot: token, static layers, the websocket link, and a render loop that redraws only what changed.
import { t, setLanguage, language, crestRevised } from "./i18n.js";
import { Store, Link } from "./link.js";
import { CityMap, COLOURS } from "./map.js";
import { IncidentList } from "./incidents.js";
import { RequestPanel, isOverdue, inQueue } from "./requests.js";
import { VideoWall } from "./video.js";
import { Hydrograph } from "./hydro.js";
import { renderKpis, renderClock, renderDrill, renderDemo } from "./header.js";

const $ = (id) => document.getElementById(id);
const RANK = { green: 0, blue: 1, yellow: 2, orange: 3, red: 4 };

function token() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) {
    sessionStorage.setItem("amur-token", fromHash);
    history.replaceState(null, "", location.pathname);  // keep the token out of the address bar
  }
  return sessionStorage.getItem("amur-token");
}

function askForToken(reason) {
  $("login").hidden = false;
  $("login-error").textContent = reason || "";
  $("login-form").onsubmit = (event) => {
    event.preventDefault();
    sessionStorage.setItem("amur-token", $("login-token").value.trim());
    location.reload();
  };
}

function toast(text, refused) {
  const node = document.createElement("div");
  node.className = `toast${refused ? " refused" : ""}`;
  node.textContent = text;
  $("toasts").append(node);
  setTimeout(() => node.remove(), 6000);
}

async function json(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

async function boot() {
  setLanguage("zh");
  const jwt = token();
  if (!jwt) return askForToken();
  const [config, layers, cameras, gauges, departments] = await Promise.all(
    ["/config.json", "/api/map", "/api/cameras", "/api/gauges", "/api/departments"].map(json));
  const store = new Store();
  let selectedIncident = null;
  let selectedGauge = null;

  const map = new CityMap($("map"), layers, cameras, gauges, (id) => selectGauge(id), (id) => selectIncident(id),
    (id) => video.showCamera(id));
  const list = new IncidentList($("incident-list"), $("incident-count"), (code) => map.place(code),
    (id) => selectIncident(id), (id, action, extra) => link.command(id, action, extra));
  list.departments = departments;
  const requests = new RequestPanel({ count: $("request-count"), statuses: $("request-statuses"),
    departments: $("request-departments"), list: $("request-list") }, (code) => map.place(code));
  requests.setDepartments(departments);
  const video = new VideoWall($("video-wall"), $("video-title"), jwt, (id) => cameraFault(id));
  const hydro = new Hydrograph($("hydrograph"), $("hydro-title"), gauges);
  const link = new Link(store, jwt, config.ws_url || config.ws_port, {
    status: (up, why) => {
      $("link").className = `link ${up ? "up" : "down"}`;
      $("link").title = !up && typeof why === "string" ? why : "";
    },
    unauthorized: (reason) => { sessionStorage.removeItem("amur-token"); askForToken(reason); },
    commandResult: (m) => toast(m.ok ? `${t("accepted")}` : `${t("refused")}: ${m.reason}`, !m.ok),
    crestRevised: (c) => toast(crestRevised(c, gauges.find((g) => g.gauge_id === c.gauge_id))),
    changed: () => scheduleRender(),
  });

  let renderPending = false;
  function scheduleRender() {  // draw once per frame, only when something arrived
    if (renderPending) return;
    renderPending = true;
    requestAnimationFrame(() => { renderPending = false; render(); });
  }

  function selectIncident(id) {
    selectedIncident = id;
    store.dirty.add("incidents");
    scheduleRender();
    const inc = store.channels.incidents.get(id);
    if (!inc) return;
    video.show(inc);
    map.focus(map.pointOf(inc));
    const gauge = gaugeOfIncident(inc);
    if (gauge) selectGauge(gauge);
  }

  // Gauge and forecast evidence ids are "gauge:<id>" and "forecast:<river>:<no>:<id>" (stream.incidents.evidence).
  function gaugeOfIncident(inc) {
    for (const e of inc.evidence) {
      const parts = e.evidence_id.split("@")[0].split(":");
      if (e.kind === "crest_forecast" || e.kind === "gauge") return parts.at(-1);
    }
    return null;
  }

  function selectGauge(id) {
    selectedGauge = id;
    hydro.select(id);
  }

  // The gauge to show first: the one with the worst forecast, else the worst stage colour.
  function firstGauge() {
    let best = null;
    for (const f of store.channels.forecasts.values()) if (!best || RANK[f.colour] > RANK[best.colour]) best = f;
    if (best) return best.gauge_id;
    for (const s of store.channels.gauges.values()) if (!best || RANK[s.colour] > RANK[best.colour]) best = s;
    return best ? best.gauge_id : gauges[0]?.gauge_id;
  }

  // The gateway's rule (command_ui.view.camera_fault): a health finding within the hold, else a failed decode.
  function cameraFault(id) {
    const hold = (store.me?.fault_hold_s ?? 180) * 1000;
    const f = store.channels.camera_faults.get(id);
    if (f && Date.now() - Date.parse(f.t) < hold) return f.kind;
    const c = store.channels.cameras.get(id);
    return c && c.status !== "ok" ? c.status : null;
  }

  function faultyCameras() {
    const faulty = new Set();
    for (const id of store.channels.camera_faults.keys()) if (cameraFault(id)) faulty.add(id);
    for (const id of store.channels.cameras.keys()) if (cameraFault(id)) faulty.add(id);
    return faulty;
  }

  function render() {
    const now = Date.now();
    const me = store.me;
    if (store.take("me") && me) {
      $("operator").textContent = `${me.subject} · ${t(me.role)} · ${me.scope}`;
      renderDemo(me.demo);
      renderDrill(me.drill);
      if (!selectedGauge) selectGauge(firstGauge());
    }
    if (store.take("incidents")) {
      const incidents = [...store.channels.incidents.values()];
      list.render(incidents, selectedIncident, me, now);
      map.drawIncidents(incidents, selectedIncident);
      if (selectedIncident && store.channels.incidents.has(selectedIncident)) video.show(store.channels.incidents.get(selectedIncident));
      if (incidents.some((i) => i.drill)) renderDrill(true);
    }
    if (store.take("requests")) {
      const open = [...store.channels.requests.values()];
      requests.render(open, now);
      map.drawRequests(open, isOverdue, inQueue);
    }
    if (store.take("cells")) map.drawCells(store.channels.cells);
    const gaugesChanged = store.take("gauges"), forecastsChanged = store.take("forecasts"), crestsChanged = store.take("crests");
    if (gaugesChanged || forecastsChanged) map.drawGauges(store.channels.gauges, store.channels.forecasts);
    if ((gaugesChanged || forecastsChanged || crestsChanged) && selectedGauge) {
      hydro.live(store.channels.gauges.get(selectedGauge), store.channels.crests.get(selectedGauge), store.channels.forecasts.get(selectedGauge));
    }
    if (store.take("cameras") | store.take("camera_faults")) map.drawCameras(faultyCameras());
    if (store.take("kpi")) renderKpis(store.kpi);
  }

  $("hazard-switch").textContent = t(map.hazard === "flood" ? "hazard_fire" : "hazard_flood");
  $("hazard-switch").onclick = () => {
    map.setHazard(map.hazard === "flood" ? "fire" : "flood", store.channels.cells);
    $("hazard-switch").textContent = t(map.hazard === "flood" ? "hazard_fire" : "hazard_flood");
    $("map-legend").textContent = t(`hazard_${map.hazard}`);
  };
  $("map-legend").textContent = t("hazard_flood");
  $("lang-switch").onclick = () => {
    setLanguage(language() === "zh" ? "en" : "zh");
    $("lang-switch").textContent = language() === "zh" ? "EN" : "中文";
    $("hazard-switch").textContent = t(map.hazard === "flood" ? "hazard_fire" : "hazard_flood");
    $("map-legend").textContent = t(`hazard_${map.hazard}`);
    map.relabel();
    for (const name of ["me", "incidents", "requests", "gauges", "kpi"]) store.dirty.add(name);
    scheduleRender();
    hydro.draw();
  };

  map.drawCameras(new Set());
  map.drawGauges(new Map(), new Map());
  link.connect();
  setInterval(scheduleRender, 1000);
  setInterval(() => { renderClock(Date.now()); list.tickAges(Date.now()); requests.tickAges(Date.now()); }, 1000);
  renderClock(Date.now());
  window.amur = { store, link, map, selectIncident, COLOURS };  // for consoles and browser tests
}

boot().catch((error) => { console.error(error); toast(String(error), true); });
