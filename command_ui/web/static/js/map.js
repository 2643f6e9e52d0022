// The city map: township and county boundaries, rivers, risk-coloured grid cells, gauges, cameras, incidents.
import { t, placeName } from "./i18n.js";

export const COLOURS = { green: "#2ecc71", blue: "#3b8cff", yellow: "#ffd21f", orange: "#ff8a1f", red: "#ff3b3b" };
const RANK = { green: 0, blue: 1, yellow: 2, orange: 3, red: 4 };
const CLUSTER_BELOW_ZOOM = 4;

function rings(geometry) {
  if (geometry.type === "Polygon") return geometry.coordinates;
  if (geometry.type === "MultiPolygon") return geometry.coordinates.flat();
  if (geometry.type === "LineString") return [geometry.coordinates];
  if (geometry.type === "MultiLineString") return geometry.coordinates;
  return [];
}

function centre(geometry) {
  let best = null;
  for (const ring of rings(geometry)) if (!best || ring.length > best.length) best = ring;
  const xs = best.map((p) => p[0]), ys = best.map((p) => p[1]);
  return [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2];
}

export class CityMap {
  constructor(element, layers, cameras, gauges, onSelectGauge, onSelectIncident, onSelectCamera = () => {}) {
    this.chart = echarts.init(element, null, { renderer: "canvas" });
    this.layers = layers;
    this.cameras = cameras;                       // [id, scene, county, lon, lat]
    this.gauges = gauges;
    this.cellPoint = new Map(layers.cells.map(([code, lon, lat]) => [code, [lon, lat]]));
    this.countyPoint = new Map(layers.counties.features.map((f) => [f.properties.code, centre(f.geometry)]));
    this.places = new Map();
    for (const layer of ["city", "counties", "townships"]) {
      for (const f of layers[layer].features) this.places.set(f.properties.code, f.properties);
    }
    this.hazard = "flood";
    this.zoom = 1;
    const townships = { type: "FeatureCollection",
      features: layers.townships.features.map((f) => ({ ...f, properties: { ...f.properties, name: f.properties.code } })) };
    echarts.registerMap("heihe", townships);
    const bounds = this.bounds(layers.city);
    this.inCity = ([lon, lat]) => lon >= bounds[0] - 0.3 && lon <= bounds[2] + 0.3 && lat >= bounds[1] - 0.3 && lat <= bounds[3] + 0.3;
    this.chart.on("georoam", () => this.onRoam());
    this.chart.on("click", (event) => {
      if (event.seriesId === "gauges") onSelectGauge(event.data.id);
      if (event.seriesId === "cameras" && event.data.id) onSelectCamera(event.data.id);
      if (event.seriesId === "incidents" || event.seriesId === "incidents-acked") onSelectIncident(event.data.id);
    });
    this.chart.setOption(this.baseOption());
    window.addEventListener("resize", () => this.chart.resize());
  }

  bounds(collection) {
    const b = [180, 90, -180, -90];
    for (const f of collection.features) for (const ring of rings(f.geometry)) for (const [x, y] of ring) {
      b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y);
    }
    return b;
  }

  place(code) { return this.places.get(code); }

  pointOf(incident) {
    if (incident.lon != null && incident.lat != null) return [incident.lon, incident.lat];
    for (const cell of incident.cells || []) if (this.cellPoint.has(cell)) return this.cellPoint.get(cell);
    return null;
  }

  fontSize(rem) { return Math.round(parseFloat(getComputedStyle(document.documentElement).fontSize) * rem); }

  baseOption() {
    const px = this.fontSize(1) / 16;  // line widths and symbols scale with the wall's resolution
    const lines = (collection, style) => collection.features.flatMap((f) => rings(f.geometry).map((coords) => ({ coords, lineStyle: style(f) })));
    const fs = this.fontSize(1);
    return {
      backgroundColor: "transparent",
      animation: false,
      geo: {
        map: "heihe", roam: true, aspectScale: 0.66, zoom: 1.15, scaleLimit: { min: 0.8, max: 60 },
        itemStyle: { areaColor: "#0c2340", borderColor: "#1f4a77", borderWidth: 0.6 },
        emphasis: { disabled: true }, select: { disabled: true }, label: { show: false }, tooltip: { show: false },
      },
      tooltip: { trigger: "item", textStyle: { fontSize: fs }, backgroundColor: "rgba(5,11,23,0.92)", borderColor: "#35d0ff",
        formatter: (p) => p.data && p.data.tip ? p.data.tip : "" },
      series: [
        { id: "cells-base", type: "scatter", coordinateSystem: "geo", symbol: "rect", symbolSize: 2 * px, large: true, silent: true,
          itemStyle: { color: "rgba(46,204,113,0.16)" }, data: this.layers.cells.map(([, lon, lat]) => [lon, lat]), zlevel: 0 },
        { id: "counties", type: "lines", coordinateSystem: "geo", polyline: true, silent: true, zlevel: 1,
          data: lines(this.layers.counties, () => ({ color: "#35d0ff", width: 2 * px, opacity: 0.85 })) },
        { id: "rivers", type: "lines", coordinateSystem: "geo", polyline: true, silent: true, zlevel: 1,
          data: lines(this.layers.rivers, (f) => ({ color: "#3fa9ff", width: (f.properties.river === "heilongjiang" ? 4 : 2) * px, opacity: 0.9 })) },
        { id: "county-labels", type: "scatter", coordinateSystem: "geo", symbolSize: 0, silent: true, zlevel: 2,
          label: { show: true, formatter: "{b}", color: "#9fc7ff", fontSize: Math.round(fs * 1.1), fontWeight: "bold" },
          data: this.layers.counties.features.map((f) => ({ name: placeName(f.properties), value: centre(f.geometry) })) },
        { id: "cells-risk", type: "scatter", coordinateSystem: "geo", symbol: "rect", symbolSize: 4 * px, large: true, largeThreshold: 500, zlevel: 2, data: [] },
        { id: "cameras", type: "scatter", coordinateSystem: "geo", zlevel: 3, data: [] },
        { id: "gauges", type: "scatter", coordinateSystem: "geo", symbol: "diamond", zlevel: 4, data: [] },
        { id: "requests", type: "scatter", coordinateSystem: "geo", symbol: "triangle", zlevel: 4, data: [] },
        { id: "incidents-acked", type: "scatter", coordinateSystem: "geo", symbol: "pin", zlevel: 5, data: [] },
        { id: "incidents", type: "effectScatter", coordinateSystem: "geo", symbol: "pin", zlevel: 6,
          rippleEffect: { scale: 4, period: 2, brushType: "stroke" }, showEffectOn: "render", data: [] },
      ],
    };
  }

  relabel() {
    this.chart.setOption({ series: [{ id: "county-labels",
      data: this.layers.counties.features.map((f) => ({ name: placeName(f.properties), value: centre(f.geometry) })) }] });
  }

  setHazard(hazard, cells) { this.hazard = hazard; this.drawCells(cells); }

  drawCells(cells) {
    const data = [];
    for (const cell of cells.values()) {
      if (cell.hazard !== this.hazard || cell.colour === "green") continue;
      const point = this.cellPoint.get(cell.cell);
      if (point) data.push({ value: point, itemStyle: { color: COLOURS[cell.colour] } });
    }
    this.chart.setOption({ series: [{ id: "cells-risk", data }] });
  }

  drawGauges(states, forecasts) {
    const fs = this.fontSize(0.9);
    const data = this.gauges.filter((g) => this.inCity([g.lon, g.lat])).map((g) => {
      const s = states.get(g.gauge_id);
      const colour = s ? s.colour : "green";
      const f = forecasts.get(g.gauge_id);
      return {
        id: g.gauge_id, value: [g.lon, g.lat], symbolSize: this.fontSize(1.3),
        itemStyle: { color: COLOURS[colour], borderColor: "#fff", borderWidth: 1 },
        label: { show: true, position: "right", fontSize: fs, color: "#fff", backgroundColor: COLOURS[colour] + "cc",
          padding: [1, 4], borderRadius: 3, formatter: `${placeName(g)} ${s ? s.stage_m.toFixed(2) + "m" : ""}${f ? " ▲" : ""}` },
        tip: `${placeName(g)}<br>${t("stage")}: ${s ? s.stage_m.toFixed(2) : "–"} m<br>${t("warning_level")}: ${g.warning_m} m<br>${t("guaranteed_level")}: ${g.guaranteed_m} m`,
      };
    });
    this.chart.setOption({ series: [{ id: "gauges", data }] });
  }

  drawCameras(faulty) {
    this.faulty = faulty;
    let data;
    if (this.zoom < CLUSTER_BELOW_ZOOM) {
      const size = 0.5 / this.zoom;
      const bins = new Map();
      for (const [id, , , lon, lat] of this.cameras) {
        const key = `${Math.floor(lon / size)}:${Math.floor(lat / size)}`;
        const bin = bins.get(key) || { n: 0, bad: 0, lon: 0, lat: 0 };
        bin.n += 1; bin.bad += faulty.has(id) ? 1 : 0; bin.lon += lon; bin.lat += lat;
        bins.set(key, bin);
      }
      const fs = this.fontSize(0.75);
      data = [...bins.values()].map((b) => ({
        value: [b.lon / b.n, b.lat / b.n], symbolSize: Math.min(this.fontSize(2.6), 8 + Math.sqrt(b.n) * 1.6),
        itemStyle: { color: b.bad ? "rgba(255,59,59,0.55)" : "rgba(53,208,255,0.35)", borderColor: b.bad ? "#ff3b3b" : "#35d0ff" },
        label: { show: b.n > 1, formatter: String(b.n), color: "#fff", fontSize: fs },
        tip: `${t("cameras")}: ${b.n}<br>${t("faulty")}: ${b.bad}`,
      }));
    } else {
      data = this.cameras.map(([id, scene, , lon, lat]) => ({
        id, value: [lon, lat], symbol: "circle", symbolSize: this.fontSize(0.4),
        itemStyle: { color: faulty.has(id) ? "#ff3b3b" : "#35d0ff" }, tip: `${id}<br>${scene}`,
      }));
    }
    this.chart.setOption({ series: [{ id: "cameras", data }] });
  }

  onRoam() {
    const zoom = this.chart.getOption().geo[0].zoom;
    const clustered = (z) => z < CLUSTER_BELOW_ZOOM;
    const changed = clustered(zoom) !== clustered(this.zoom) || (clustered(zoom) && Math.abs(Math.log2(zoom / this.zoom)) > 0.5);
    this.zoom = zoom;
    if (changed && this.faulty) this.drawCameras(this.faulty);
  }

  drawIncidents(incidents, selectedId) {
    const pulsing = [], steady = [];
    const size = this.fontSize(2.4);
    for (const inc of incidents) {
      if (inc.state === "resolved" || inc.state === "expired") continue;
      const point = this.pointOf(inc);
      if (!point) continue;
      const item = {
        id: inc.incident_id, value: point, symbolSize: inc.incident_id === selectedId ? size * 1.4 : size,
        itemStyle: { color: COLOURS[inc.colour], borderColor: inc.incident_id === selectedId ? "#fff" : "#000", borderWidth: 1.5 },
        tip: `${inc.title}<br>${t(inc.hazard)} · ${t(inc.state)}`,
      };
      (inc.state === "raised" ? pulsing : steady).push(item);
    }
    this.chart.setOption({ series: [{ id: "incidents", data: pulsing }, { id: "incidents-acked", data: steady }] });
  }

  // Grid requests: at their point, else their cell, else the middle of the cells of the village or township an
  // address named, else its county (the city: no marker).
  requestPoint(r) {
    if (r.lon != null && r.lat != null) return [r.lon, r.lat];
    return this.cellPoint.get(r.place) || this.middleOf(r.place) || this.countyPoint.get(r.place) || null;
  }

  middleOf(code) {
    if (code.length !== 9 && code.length !== 12) return null;
    this.middles = this.middles || new Map();
    if (!this.middles.has(code)) {
      let n = 0, lon = 0, lat = 0;
      for (const [cell, point] of this.cellPoint) if (cell.startsWith(code)) { n += 1; lon += point[0]; lat += point[1]; }
      this.middles.set(code, n ? [lon / n, lat / n] : null);
    }
    return this.middles.get(code);
  }

  drawRequests(requests, overdue, queued) {
    const size = this.fontSize(1.1);
    const data = [];
    for (const r of requests) {
      const point = this.requestPoint(r);
      if (!point) continue;
      const colour = overdue(r) ? COLOURS.red : queued(r) ? COLOURS.orange : "#35d0ff";
      data.push({ id: r.request_id, value: point, symbolSize: overdue(r) ? size * 1.3 : size,
        itemStyle: { color: colour, borderColor: "#000", borderWidth: 1 },
        tip: `${r.title}<br>${t(`req_${r.status}`)}${r.department ? " → " + r.department : ""}` });
    }
    this.chart.setOption({ series: [{ id: "requests", data }] });
  }

  focus(point) {
    if (!point) return;
    this.chart.setOption({ geo: { center: point, zoom: Math.max(this.zoom, 1.6) } });
    this.onRoam();
  }

  rankOf(colour) { return RANK[colour] ?? 0; }
}
