// The grid-events panel: dispatched requests (Open311, 110, grid devices) in the operator's scope — counts by
// status and by department, overdue in red, and the dispatcher queue (unmapped 110 calls, rejections) first.
import { t, placeName, language } from "./i18n.js";
import { age, el } from "./incidents.js";

export const STATUSES = ["received", "accepted", "assigned", "in_progress", "resolved", "rerouted", "rejected"];
const MAX_ROWS = 40;
const MAX_DEPARTMENTS = 8;

// The gateway's rules (command_ui.view): the queue is every request with no department; overdue is what the
// stream decided (a deadline passed on its clock), never this page's clock.
export const inQueue = (r) => !r.department && r.status !== "closed";
export const isOverdue = (r) => r.overdue != null;

export function summary(requests) {
  const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  const byDepartment = new Map();
  let overdue = 0, queue = 0;
  for (const r of requests) {
    byStatus[r.status] = (byStatus[r.status] || 0) + 1;
    if (isOverdue(r)) overdue += 1;
    if (inQueue(r)) { queue += 1; continue; }
    const d = byDepartment.get(r.department) || { open: 0, overdue: 0 };
    d.open += 1;
    d.overdue += isOverdue(r) ? 1 : 0;
    byDepartment.set(r.department, d);
  }
  return { total: requests.length, byStatus, byDepartment, overdue, queue };
}

// Queue first, then overdue (highest escalation first), then the rest; newest first within each.
export function orderedRequests(requests) {
  const rank = (r) => (inQueue(r) ? 2 : 0) + (isOverdue(r) ? 1 : 0);
  return [...requests].sort((a, b) => (rank(b) - rank(a)) || (b.escalation_level - a.escalation_level) ||
    (Date.parse(b.received_at) - Date.parse(a.received_at)));
}

export class RequestPanel {
  constructor(elements, placeOf) {
    this.e = elements;  // {count, statuses, departments, list}
    this.placeOf = placeOf;
    this.departments = new Map();
  }

  setDepartments(list) { this.departments = new Map(list.map((d) => [d.department_id, d])); }

  department(id) {
    const d = this.departments.get(id);
    return d ? placeName(d) : id;
  }

  where(r) {
    // the county and township by name, then the village and cell numbers (as the incident list does)
    const names = (r.grid_path || []).slice(1).map((code) => {
      const props = this.placeOf(code);
      return props ? placeName(props) : `${t(code.length === 12 ? "village" : "cell")} ${code.slice(-3)}`;
    });
    return names.length ? names.join(" › ") : (r.address || t("req_city"));
  }

  render(requests, now) {
    const s = summary(requests);
    this.e.count.textContent = `${s.total}`;
    this.e.statuses.replaceChildren();
    for (const status of [...STATUSES, "overdue", "queue"]) {
      const n = status === "overdue" ? s.overdue : status === "queue" ? s.queue : s.byStatus[status];
      const box = el("div", `req-stat stat-${status}${n ? "" : " zero"}`);
      box.dataset.status = status;
      box.append(el("b", "", String(n)), el("span", "", t(`req_${status}`)));
      this.e.statuses.append(box);
    }
    this.e.departments.replaceChildren();
    const departments = [...s.byDepartment].sort((a, b) => (b[1].overdue - a[1].overdue) || (b[1].open - a[1].open));
    for (const [id, d] of departments.slice(0, MAX_DEPARTMENTS)) {
      const chip = el("span", `req-dept${d.overdue ? " late" : ""}`);
      chip.dataset.department = id;
      chip.dataset.open = d.open;
      chip.dataset.overdue = d.overdue;
      chip.append(el("span", "name", this.department(id)), el("b", "", String(d.open)));
      if (d.overdue) chip.append(el("b", "late-count", `${d.overdue}`));
      this.e.departments.append(chip);
    }
    this.e.list.replaceChildren();
    if (!requests.length) { this.e.list.append(el("div", "empty", t("no_requests"))); return; }
    for (const r of orderedRequests(requests).slice(0, MAX_ROWS)) this.e.list.append(this.row(r, now));
  }

  row(r, now) {
    const queued = inQueue(r), late = isOverdue(r);
    const row = el("div", `request${queued ? " queued" : ""}${late ? " overdue" : ""}`);
    row.setAttribute("role", "listitem");
    Object.assign(row.dataset, { id: r.request_id, status: r.status, channel: r.channel });
    row.append(el("div", "bar"));
    // an item's title is "<Chinese> / <English>"; an unmapped call is known by what the caller said
    const said = (r.description || "").replace(/[:：]\s*$/, "");  // a call with a category and no notes
    const title = r.item_code ? r.title.split(" / ")[language() === "en" ? 1 : 0] || r.title : (said || r.title);
    const channel = t(`channel_${r.channel}`);
    row.append(el("div", "head", `${channel.startsWith("channel_") ? r.channel : channel} · ${title}`));
    const state = queued ? t("req_queue") : late ? `${t("req_overdue")} ↑${r.escalation_level}` : t(`req_${r.status}`);
    row.append(el("div", "state", state));
    const meta = el("div", "meta");
    const since = el("span", "age", `${t("age")} ${age(r.received_at, now)}`);
    since.dataset.since = r.received_at;
    meta.append(since);
    if (queued) meta.append(el("span", "why", this.why(r)));
    else meta.append(el("span", "", `→ ${this.department(r.department)}`));
    meta.append(el("span", "place", this.where(r)));
    row.append(meta);
    return row;
  }

  // Why it waits for the dispatcher: the department that rejected it and its reason, or no item matched it.
  why(r) {
    if (r.status === "rejected" && r.change === "rejected") return `${this.department(r.actor)}: ${r.reason}`;
    return r.status === "rejected" ? r.queue_reason : r.item_code ? r.queue_reason : t("req_unmapped");
  }

  tickAges(now) {
    for (const span of this.e.list.querySelectorAll(".age")) span.textContent = `${t("age")} ${age(span.dataset.since, now)}`;
  }
}
