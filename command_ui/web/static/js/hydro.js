// Hydrograph of the selected gauge: observed stage, warning and guaranteed levels, crests, forecast with its band.
import { t, placeName } from "./i18n.js";

// One triangle per crest number: the last revision of each (the series keeps every announcement).
export function latestCrests(crests) {
  const byNumber = new Map();
  for (const c of crests) {
    const seen = byNumber.get(c.crest_no);
    if (!seen || (c.revision ?? 0) >= (seen.revision ?? 0)) byNumber.set(c.crest_no, c);
  }
  return [...byNumber.values()].sort((a, b) => Date.parse(a.crest_time) - Date.parse(b.crest_time));
}

const REFETCH_MS = 30000;

export class Hydrograph {
  constructor(element, titleElement, gauges) {
    this.chart = echarts.init(element, null, { renderer: "canvas" });
    this.titleElement = titleElement;
    this.gauges = new Map(gauges.map((g) => [g.gauge_id, g]));
    this.gaugeId = null;
    this.series = null;
    window.addEventListener("resize", () => this.chart.resize());
  }

  async select(gaugeId) {
    this.gaugeId = gaugeId;
    this.fetchedAt = Date.now();
    const response = await fetch(`/api/gauges/${encodeURIComponent(gaugeId)}/series`);
    if (!response.ok || this.gaugeId !== gaugeId) return;
    this.series = await response.json();
    this.series.crests = latestCrests(this.series.crests);
    this.draw();
  }

  // A live GaugeState or CrestDetected for the selected gauge extends the chart without a refetch;
  // a revised crest (same number, revision > 0) replaces the crest it revises. At most every REFETCH_MS the
  // series is fetched again instead: history that arrived after the page opened (a backfill) only comes so.
  live(state, crest, forecast) {
    if (!this.series) return;
    if (Date.now() - this.fetchedAt > REFETCH_MS) { this.select(this.gaugeId); return; }
    if (state) {
      const last = this.series.observed.at(-1);
      if (!last || last[0] !== state.event_time) this.series.observed.push([state.event_time, state.stage_m]);
    }
    if (crest && crest.gauge_id === this.gaugeId) this.series.crests = latestCrests([...this.series.crests, crest]);
    this.series.forecast = forecast || null;
    this.draw();
  }

  draw() {
    const gauge = this.gauges.get(this.gaugeId);
    if (!gauge || !this.series) {
      this.titleElement.textContent = t("select_gauge");
      return;
    }
    this.titleElement.textContent = placeName(gauge);
    const fs = Math.round(parseFloat(getComputedStyle(document.documentElement).fontSize));
    const { observed, crests, forecast } = this.series;
    const lastObserved = observed.at(-1);
    const forecastLine = forecast && lastObserved ? [lastObserved, [forecast.arrival_time, forecast.stage_m]] : [];
    const level = (name, value, color) => ({ name, yAxis: value, lineStyle: { color, type: "dashed", width: fs / 8 },
      label: { formatter: `${name} ${value}m`, color, fontSize: fs * 0.85, position: "insideEndTop" } });
    const values = observed.map((p) => p[1]).concat([gauge.warning_m, gauge.guaranteed_m]);
    if (forecast) values.push(forecast.stage_high_m, forecast.stage_low_m);
    this.chart.setOption({
      animation: false, backgroundColor: "transparent",
      grid: { left: fs * 3.2, right: fs * 1.2, top: fs * 2.2, bottom: fs * 2.2 },
      legend: { top: 0, itemWidth: fs * 1.6, itemHeight: fs * 0.8, textStyle: { color: "#d8e6ff", fontSize: fs * 0.85 }, data: [t("observed"), t("forecast"), t("crest")] },
      tooltip: { trigger: "axis", textStyle: { fontSize: fs } },
      xAxis: { type: "time", max: forecast ? Date.parse(forecast.arrival_high) + 3 * 3600e3 : undefined, axisLabel: { color: "#7f97b8", fontSize: fs * 0.8 }, axisLine: { lineStyle: { color: "#1d3a5f" } } },
      yAxis: { type: "value", name: `${t("stage")} (m)`, nameTextStyle: { color: "#7f97b8", fontSize: fs * 0.8 },
        min: Math.floor(Math.min(...values) - 0.5), max: Math.ceil(Math.max(...values) + 0.3),
        axisLabel: { color: "#7f97b8", fontSize: fs * 0.8 }, splitLine: { lineStyle: { color: "#13284a" } } },
      series: [
        { name: t("observed"), type: "line", showSymbol: false, data: observed, lineStyle: { color: "#35d0ff", width: fs / 5 },
          areaStyle: { color: "rgba(53,208,255,0.12)" },
          markLine: { symbol: "none", silent: true, data: [
            level(t("warning_level"), gauge.warning_m, "#ffd21f"), level(t("guaranteed_level"), gauge.guaranteed_m, "#ff3b3b")] } },
        { name: t("forecast"), type: "line", data: forecastLine, lineStyle: { color: "#ff8a1f", type: "dashed", width: fs / 5 },
          symbolSize: fs * 0.7, itemStyle: { color: "#ff8a1f" },
          markArea: forecast ? { silent: true, itemStyle: { color: "rgba(255,138,31,0.18)", borderColor: "#ff8a1f", borderType: "dashed" },
            label: { show: true, formatter: t("band"), color: "#ff8a1f", fontSize: fs * 0.8 },
            data: [[{ xAxis: forecast.arrival_low, yAxis: forecast.stage_low_m }, { xAxis: forecast.arrival_high, yAxis: forecast.stage_high_m }]] } : undefined },
        { name: t("crest"), type: "scatter", symbol: "triangle", symbolSize: fs * 1.1, itemStyle: { color: "#ff3b3b" },
          label: { show: true, position: "top", color: "#fff", fontSize: fs * 0.8, formatter: (p) => `#${p.data[2]}` },
          data: crests.map((c) => [c.crest_time, c.stage_m, c.crest_no]) },
      ],
    }, true);
  }
}
