// The websocket link: hello with token and resume positions, snapshot/update into the store, commands out.
export const CHANNELS = ["incidents", "cells", "gauges", "crests", "forecasts", "cameras", "camera_faults", "sources",
  "sampling", "requests"];

function newId() {  // crypto.randomUUID needs a secure context; a wall on a LAN address may not be one
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Store {
  constructor() {
    this.channels = Object.fromEntries(CHANNELS.map((c) => [c, new Map()]));
    this.seq = null;          // last sequence per channel, null = ask for a snapshot
    this.me = null;
    this.kpi = null;
    this.dirty = new Set();
  }

  snapshot(message) {
    for (const c of CHANNELS) {
      this.channels[c] = new Map(Object.entries(message.channels[c] || {}));
      this.dirty.add(c);
    }
    this.seq = { ...message.seq };
    this.me = message.me;
    this.dirty.add("me");
  }

  update(message) {
    const entries = this.channels[message.ch];
    if (message.data === null) entries.delete(message.key); else entries.set(message.key, message.data);
    if (this.seq) this.seq[message.ch] = Math.max(this.seq[message.ch] || 0, message.seq);
    this.dirty.add(message.ch);
  }

  position(message) {
    if (!this.seq) return;
    for (const [c, n] of Object.entries(message.seq)) this.seq[c] = Math.max(this.seq[c] || 0, n);
  }

  take(name) {
    const had = this.dirty.has(name);
    this.dirty.delete(name);
    return had;
  }
}

export class Link {
  constructor(store, token, endpoint, handlers) {
    this.store = store;
    this.token = token;
    // behind a TLS proxy the gateway names the URL (wss://host/ws); else the page's host at the websocket port
    this.url = typeof endpoint === "string" ? endpoint : `ws://${location.hostname}:${endpoint}/`;
    this.handlers = handlers;
    this.pending = new Set();
    this.socket = null;
    this.retry = 500;
  }

  connect() {
    const ws = new WebSocket(this.url);
    this.socket = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "hello", token: this.token, resume: this.store.seq }));
      this.retry = 500;
    };
    ws.onmessage = (event) => {
      for (const message of JSON.parse(event.data)) this.dispatch(message);
      this.handlers.changed();
    };
    ws.onclose = (event) => {
      this.handlers.status(false, event.code);
      if (event.code === 4001) return this.handlers.unauthorized();
      setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 10000);
    };
  }

  dispatch(message) {
    const store = this.store;
    switch (message.type) {
      case "snapshot": store.snapshot(message); this.handlers.status(true); break;
      case "update":
        store.update(message);
        // a crest announced early and then revised (same number, new time and stage): the wall says so
        if (message.ch === "crests" && message.data?.revision > 0) this.handlers.crestRevised?.(message.data);
        // the incident agent refuses what the gateway could not know (e.g. an illegal transition)
        if (message.ch === "incidents" && message.data?.change === "command_refused" && this.pending.has(message.data.command_id)) {
          this.pending.delete(message.data.command_id);
          this.handlers.commandResult({ ok: false, reason: message.data.refusal });
        }
        break;
      case "position": store.position(message); break;
      case "coalesced": store.seq = null; break;  // positions no longer exact: resume with a snapshot
      case "kpi": store.kpi = message; store.dirty.add("kpi"); break;
      // the gateway cannot read Redis: what the wall shows is the last known state, so the link shows a fault
      case "backend": this.handlers.status(message.ok, message.reason); break;
      case "command_result":
        if (!message.ok) this.pending.delete(message.command_id);
        this.handlers.commandResult(message);
        break;
      case "error": if (message.code === "auth") this.handlers.unauthorized(message.reason); break;
    }
  }

  command(incidentId, action, extra = {}) {
    const command_id = newId();
    this.pending.add(command_id);
    this.socket.send(JSON.stringify({ type: "command", command_id, incident_id: incidentId, action, ...extra }));
    return command_id;
  }
}
