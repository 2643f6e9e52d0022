"""The drill report as one self-contained HTML page: headline figures, tables, ECharts charts.

:func:`render` is pure: the report dict of :mod:`stream.drills.report_data` and
the text of ``echarts.min.js`` in, the page out. The page loads nothing: the
chart library and the data are inlined, so it opens offline (a file handed to
the chief). Tables are plain HTML (readable without scripts); the charts are
ECharts canvases drawn from the inlined JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from html import escape

COLOURS = {"red": "#d7263d", "orange": "#f46036", "yellow": "#e2b714", "blue": "#1b6ca8", "green": "#3a9d23"}
FONT = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    sign, s = ("−" if seconds < 0 else ""), abs(round(seconds))
    h, rem = divmod(s, 3600)
    return f"{sign}{h} h {rem // 60:02d} min" if h else f"{sign}{rem // 60} min {rem % 60:02d} s"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f} h"


def _cell(value: object) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else ("" if value is None else str(value))
    colour = COLOURS.get(text)
    if colour:
        return f'<td><span class="dot" style="background:{colour}"></span>{escape(text)}</td>'
    return f"<td>{escape(text)}</td>"


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]], empty: str) -> str:
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    if not body:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def headline_cards(report: dict) -> list[tuple[str, str, str]]:
    """(id, label, value) of the figures the chief reads first."""
    h = report["headline"]
    cards = [("incidents", "Incidents raised", str(h["incidents"]))]
    if h["expected"] is not None:
        cards += [("recall", "Recall (expected events raised)", _pct(h["recall"])),
                  ("precision", "Precision (alerts that were real)", _pct(h["precision"])),
                  ("on-time", "Raised on time", _pct(h["on_time"])),
                  ("missed", "Missed / late", f"{h['missed']} / {h['late']}")]
    cards += [("lead", "Shortest flood lead time", _hours(h["min_flood_lead_h"])),
              ("ack", "Median time to acknowledge", _duration(h["median_ack_s"])),
              ("faults", "Camera faults found", f"{h['camera_faults']} ({h['cameras_at_fault']} cameras)")]
    return cards


def _sections(report: dict) -> str:
    truth = _table(["expected", "hazard", "county", "raise by", "result", "incident", "raised", "late by"],
                   ([t["what"], t["hazard"], f"{t['county']} {t['county_name']}", t["by"], t["status"],
                     t["incident"], t["raised_at"], _duration(t["delay_s"]) if t["status"] == "late" else ""]
                    for t in report["truth"]), "This drill has no scenario ground truth to compare with.")
    incidents = _table(["colour", "hazard", "county", "raised (event time)", "state", "acknowledged after",
                        "evidence", "title", "id"],
                       ([i["colour"], i["hazard"], f"{i['county']} {i['county_name']}", i["raised_at"], i["state"],
                         _duration(i["ack_s"]), i["evidence"], i["title"], i["id"]] for i in report["incidents"]),
                       "No incident was raised.")
    leads = _table(["incident", "gauge", "raised", "crest", "lead", "crest from"],
                   ([r["title"], r["gauge"], r["raised_at"], r["crest_at"], _hours(r["lead_h"]), r["basis"]]
                    for r in report["lead_times"]), "No flood alert with a crest to measure against.")
    faults = _table(["raised", "cameras", "title"],
                    ([f["raised_at"], f["cameras"], f["title"]] for f in report["camera_faults"]),
                    "No camera fault was raised.")
    timeline = _table(["event time", "what", "change", "colour", "incident", "title", "detail"],
                      ([r["at"], r["kind"], r["change"], r["colour"], r["incident"], r["title"], r["detail"]]
                       for r in report["timeline"]), "Nothing happened.")
    false = ", ".join(report["false_alarms"]) or "none"
    return f"""
<h2>Against the scenario's ground truth</h2>{truth}
<p>False alarms (incidents of the scenario's hazards that match nothing expected): {escape(false)}</p>
<h2>Charts</h2>
<div class="charts">
<div class="chart" id="chart-incidents" role="img" aria-label="incidents open over time"></div>
<div class="chart" id="chart-risk" role="img" aria-label="cells at risk by county"></div>
</div>
<div id="hydrographs" class="charts"></div>
<h2>Flood alerts: lead time before the crest</h2>{leads}
<h2>Incidents (worst first)</h2>{incidents}
<h2>Camera faults found</h2>{faults}
<h2>Timeline of incidents, escalations and operator actions</h2>{timeline}
"""


SCRIPT = """
const R = JSON.parse(document.getElementById('report-data').textContent);
const FONT = %(font)s, C = %(colours)s;
const base = {textStyle: {fontFamily: FONT}, animation: false, tooltip: {trigger: 'axis'}};
function chart(el, option) { echarts.init(el, null, {renderer: 'canvas'}).setOption(Object.assign({}, base, option)); }
chart(document.getElementById('chart-incidents'), {
  title: {text: '事件数 Incidents open over time'},
  xAxis: {type: 'time'}, yAxis: {type: 'value', minInterval: 1},
  series: [{type: 'line', step: 'end', name: 'open', data: R.open_over_time, areaStyle: {opacity: 0.2}}]});
const counties = Object.keys(R.risk_by_county);
chart(document.getElementById('chart-risk'), {
  title: {text: '各区县风险 Cells at risk by county (worst in the drill)'}, legend: {bottom: 0},
  xAxis: {type: 'category', data: counties, axisLabel: {interval: 0, rotate: 20}}, yAxis: {type: 'value'},
  series: ['yellow', 'orange', 'red'].map(c => ({type: 'bar', stack: 'risk', name: c, itemStyle: {color: C[c]},
    data: counties.map(k => R.risk_by_county[k][c])}))});
const holder = document.getElementById('hydrographs');
R.hydrographs.forEach(g => {
  const el = document.createElement('div'); el.className = 'chart hydrograph'; holder.appendChild(el);
  const marks = [];
  if (g.warning_m !== null) marks.push({yAxis: g.warning_m, name: '警戒 warning', lineStyle: {color: C.orange}});
  if (g.guaranteed_m !== null) marks.push({yAxis: g.guaranteed_m, name: '保证 guaranteed', lineStyle: {color: C.red}});
  chart(el, {title: {text: '水位 ' + g.name + ' (' + g.gauge + ')'}, legend: {bottom: 0},
    xAxis: {type: 'time'}, yAxis: {type: 'value', scale: true, name: 'm'},
    series: [{type: 'line', name: 'stage', showSymbol: false, data: g.series,
              markLine: {symbol: 'none', label: {formatter: '{b}', position: 'insideEndTop'}, data: marks}},
             {type: 'scatter', name: 'forecast crest', symbolSize: 9,
              data: g.forecasts.map(f => [f.arrival, f.stage_m])}]});
});
document.body.dataset.charts = 'drawn';
"""

STYLE = f"""
body {{ font-family: {FONT}; margin: 2em auto; max-width: 1200px; color: #1d2733; }}
header {{ border-bottom: 3px solid #d7263d; margin-bottom: 1em; }}
.exercise {{ background: #d7263d; color: white; padding: 0.2em 0.6em; font-weight: bold; }}
.stopped {{ background: #fff3cd; border: 1px solid #e2b714; padding: 0.6em; }}
.cards {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 0.8em; }}
.card {{ border: 1px solid #c9d3dd; border-radius: 6px; padding: 0.8em; }}
.card .value {{ font-size: 2em; font-weight: bold; }}
.card .label {{ color: #52606d; }}
.charts {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 1em; }}
.chart {{ height: 340px; }}
table {{ border-collapse: collapse; width: 100%; font-size: 0.9em; margin-bottom: 1em; }}
th, td {{ border-bottom: 1px solid #e4e7eb; padding: 0.3em 0.5em; text-align: left; }}
.dot {{ display: inline-block; width: 0.8em; height: 0.8em; border-radius: 50%; margin-right: 0.3em; }}
.empty {{ color: #52606d; font-style: italic; }}
"""


def _inline_json(data: object) -> str:
    """JSON safe inside a <script> element (no closing tag, no HTML comment)."""
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/").replace("<!--", "<\\!--")


def render(report: dict, echarts_js: str) -> str:
    """The report page; ``echarts_js`` is the text of ``echarts.min.js``, inlined."""
    cards = "".join(f'<div class="card" id="card-{cid}"><div class="value">{escape(value)}</div>'
                    f'<div class="label">{escape(label)}</div></div>' for cid, label, value in headline_cards(report))
    scenario = report["scenario"] or "a recording"
    stopped = ('<p class="stopped"><b>STOPPED EARLY</b>: the pipeline had not processed all of the drill\'s input '
               "when the drill ended; incidents that input would have raised are missing here.</p>"
               if report["stopped_early"] else "")
    script = SCRIPT % {"font": json.dumps(FONT), "colours": json.dumps(COLOURS)}
    library = echarts_js.replace("</script", "<\\/script")
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>演练报告 Drill report {escape(report['run_id'])}</title>
<style>{STYLE}</style></head>
<body>
<header><h1>演练报告 Drill report — {escape(report['run_id'])} <span class="exercise">演练 EXERCISE</span></h1>
<p>Scenario: <b>{escape(scenario)}</b>, start {escape(report['start'] or '—')}, seed {escape(str(report['seed']))}.
All times are the drill's event time.</p></header>
{stopped}
<section class="cards" id="headline">{cards}</section>
{_sections(report)}
<script type="application/json" id="report-data">{_inline_json(report)}</script>
<script>{library}</script>
<script>{script}</script>
</body></html>
"""
