// Header KPIs, the clock, the drill banner and the six-dimension vital-signs strip.
import { t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

export function renderKpis(kpi) {
  $("kpi-sources-live").textContent = kpi.sources_live;
  $("kpi-sources-stale").textContent = kpi.sources_stale;
  $("kpi-events").textContent = kpi.events_per_s.toFixed(kpi.events_per_s < 10 ? 1 : 0);
  $("kpi-cameras-online").textContent = kpi.cameras_online;
  $("kpi-cameras-faulty").textContent = kpi.cameras_faulty;
  for (const colour of ["red", "orange", "yellow", "blue"]) {
    const chip = $(`kpi-open-${colour}`);
    chip.textContent = kpi.open_by_colour[colour] ?? 0;
    chip.classList.toggle("zero", !kpi.open_by_colour[colour]);
  }
  renderDrill(kpi.drill);
  renderVitals(kpi.dimensions);
  renderSampling(kpi.sampling);
}

// Shown only while camera sampling falls behind its plan (served/planned frames/s, who waits too long).
export function renderSampling(sampling) {
  $("kpi-sampling").hidden = !sampling?.short;
  if (!sampling?.short) return;
  $("kpi-sampling-served").textContent = Math.round(sampling.served_fps);
  $("kpi-sampling-planned").textContent = Math.round(sampling.planned_fps);
  $("kpi-sampling-past").textContent = sampling.past_max_interval;
  $("kpi-sampling-behind").textContent = sampling.claimed_behind;
}

let demonstration = false;

// A demonstration (`amur run`): the banner stays, says the city is simulated, and exercises read 演示.
export function renderDemo(demo) {
  demonstration = !!demo;
  document.body.classList.toggle("demo", demonstration);
  const label = $("drill-banner").querySelector("span");
  label.dataset.i18n = demonstration ? "demo_banner" : "drill_banner";
  label.textContent = t(label.dataset.i18n);
  renderDrill(false);
}

export function renderDrill(drill) {
  $("drill-banner").hidden = !(drill || demonstration);
  document.body.classList.toggle("drill", !!(drill || demonstration));
}

export function renderVitals(dimensions) {
  const strip = $("vitals");
  strip.replaceChildren();
  for (const d of dimensions) {
    const box = document.createElement("div");
    box.className = `vital${d.sources_stale && d.out_of_range ? " alarm" : d.sources_stale || d.out_of_range ? " warn" : ""}`;
    box.dataset.dimension = d.dimension;
    box.innerHTML = `<div class="name"></div><div class="nums">
      <span><b class="ok">${d.sources_live}</b> ${t("live")}</span>
      <span><b class="${d.sources_stale ? "bad" : ""}">${d.sources_stale}</b> ${t("stale")}</span>
      <span><b>${d.sources_unseen}</b> ${t("unseen")}</span>
      <span><b class="${d.out_of_range ? "warn" : ""}">${d.out_of_range}</b> ${t("out_of_range")}</span></div>`;
    box.querySelector(".name").textContent = t(d.dimension);
    strip.append(box);
  }
}

export function renderClock(now) {
  const pad = (n) => String(n).padStart(2, "0");
  const d = new Date(now);
  $("clock").textContent = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
