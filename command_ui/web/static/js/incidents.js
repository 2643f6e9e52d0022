// The incident list: colour, type, place as a grid path, age, state, evidence count, why it has its colour,
// and the duty officer's buttons.
import { t, placeName } from "./i18n.js";

const RANK = { green: 0, blue: 1, yellow: 2, orange: 3, red: 4 };
const OPEN = new Set(["raised", "acknowledged", "assigned"]);

export function age(since, now) {
  if (!since) return "–";
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, "0")}m` : `${m}:${String(sec).padStart(2, "0")}`;
}

export function ordered(incidents) {
  return [...incidents].sort((a, b) =>
    (OPEN.has(b.state) - OPEN.has(a.state)) || (RANK[b.colour] - RANK[a.colour]) ||
    (Date.parse(b.raised_at || b.event_time) - Date.parse(a.raised_at || a.event_time)));
}

// The evidence that gives the incident its colour, in its own words: e.g. an orange cell beside a blue gauge,
// "flood risk 0.72 (orange): stage 2.90 m at wye-beian, this cell floods at 2.29 m" (stream.incidents.evidence).
export function reason(inc) {
  const evidence = inc.evidence || [];
  const worst = evidence.find((e) => e.colour === inc.colour) || evidence[0];
  return (worst && worst.summary) || "";
}

export function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text != null) node.textContent = text;
  return node;
}

export class IncidentList {
  constructor(element, countElement, placeOf, onSelect, onCommand) {
    this.element = element;
    this.countElement = countElement;
    this.placeOf = placeOf;
    this.onSelect = onSelect;
    this.onCommand = onCommand;
    this.departments = [];
  }

  path(incident) {
    // county and township by name; village and cell by their number within the parent (GB/T 2260 extension)
    const names = (incident.grid_path || []).slice(1).map((code) => {
      const props = this.placeOf(code);
      if (props) return placeName(props);
      return `${t(code.length === 12 ? "village" : "cell")} ${code.slice(-3)}`;
    });
    return names.length ? names.join(" › ") : (incident.cells || []).slice(0, 2).join(", ");
  }

  render(incidents, selectedId, me, now) {
    const list = ordered(incidents);
    const open = list.filter((i) => OPEN.has(i.state)).length;
    this.countElement.textContent = `${open} / ${list.length}`;
    this.element.replaceChildren();
    if (!list.length) { this.element.append(el("div", "empty", t("no_incidents"))); return; }
    const mayCommand = me && (me.role === "duty_officer" || me.role === "admin");
    for (const inc of list) {
      const row = el("div", `incident${inc.incident_id === selectedId ? " selected" : ""}${inc.state === "raised" ? " unacked" : ""}${inc.drill ? " drill" : ""}`);
      row.setAttribute("role", "listitem");
      row.dataset.id = inc.incident_id;
      row.dataset.state = inc.state;
      row.dataset.revision = inc.revision;
      row.append(el("div", `bar colour-${inc.colour}`));
      row.append(el("div", "head", `${t(inc.hazard)} · ${inc.title}`));
      row.append(el("div", `state state-${inc.state}`, t(inc.state)));
      row.append(el("div", "place", this.path(inc)));
      const meta = el("div", "meta");
      const since = inc.raised_at || inc.event_time;
      const ageSpan = el("span", "age", `${t("age")} ${age(since, now)}`);
      ageSpan.dataset.since = since;
      meta.append(ageSpan);
      meta.append(el("span", "", `${t("evidence")} ${inc.evidence.length}`));
      if (inc.assignee) meta.append(el("span", "", `→ ${inc.assignee}`));
      const why = reason(inc);
      if (why) meta.append(el("span", "why", why));
      row.append(meta);
      if (OPEN.has(inc.state)) row.append(this.actions(inc, mayCommand));
      row.addEventListener("click", () => this.onSelect(inc.incident_id));
      this.element.append(row);
    }
  }

  tickAges(now) {
    for (const span of this.element.querySelectorAll(".age")) span.textContent = `${t("age")} ${age(span.dataset.since, now)}`;
  }

  actions(inc, mayCommand) {
    const box = el("div", `actions${mayCommand ? "" : " locked"}`);
    const button = (action, cls, extra) => {
      const b = el("button", cls, t(action));
      b.dataset.action = action;
      b.addEventListener("click", (event) => { event.stopPropagation(); this.onCommand(inc.incident_id, action, extra ? extra() : {}); });
      return b;
    };
    if (inc.state === "raised") box.append(button("acknowledge", "primary"));
    const select = el("select");
    for (const d of this.departments) {
      const option = el("option", "", placeName(d));
      option.value = d.department_id;
      select.append(option);
    }
    select.addEventListener("click", (event) => event.stopPropagation());
    box.append(select, button("assign", "", () => ({ assignee: select.value })), button("resolve", ""));
    return box;
  }
}
