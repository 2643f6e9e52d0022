// Chinese by default, English on the switch. Keys are shared by every panel.
const STRINGS = {
  zh: {
    title: "黑河市应急指挥中心", subtitle: "一屏观全城 · 一图统指挥",
    drill_banner: "演练 EXERCISE — 当前画面为演练数据，非真实事件",
    demo_banner: "演示 DEMONSTRATION — 模拟城市：数据与事件均为演示，非真实事件",
    kpi_sources: "数据源 在线/过期", kpi_events: "事件/秒", kpi_cameras: "视频 在线/故障", kpi_open: "未结事件",
    kpi_sampling: "视频采样滞后 实际/计划 帧/秒", sampling_past_max: "路超最长间隔", sampling_claimed_behind: "路重点滞后",
    incidents: "事件列表", map: "全市态势", video_wall: "关联视频", hydrograph: "水位过程线",
    flood: "洪水", fire: "火险", camera_fault: "视频故障", source_outage: "数据中断", public_safety: "公共安全", other: "其他",
    hazard_flood: "洪水风险", hazard_fire: "森林火险",
    raised: "待确认", acknowledged: "已确认", assigned: "已指派", resolved: "已处置", expired: "已过期",
    acknowledge: "确认", assign: "指派", resolve: "处置完成", evidence: "证据", age: "持续",
    no_incidents: "暂无事件", select_incident: "请选择事件查看关联视频", no_cameras: "该事件无关联摄像头",
    no_frame: "暂无画面", select_gauge: "请在地图上选择水文站",
    stage: "水位", warning_level: "警戒水位", guaranteed_level: "保证水位", observed: "实测", forecast: "预报",
    crest: "洪峰", band: "预报区间", crest_revised: "第{no}号洪峰修正：{stage} 米，{time}",
    accepted: "指令已提交", refused: "指令被拒绝",
    live: "在线", stale: "过期", unseen: "未接入", out_of_range: "指标异常",
    infrastructure: "基础设施", government_services: "政务服务", economy: "经济运行", culture: "文化",
    ecology_environment: "生态环境", livelihood: "民生保障", unregistered: "未登记",
    login: "进入", login_hint: "请粘贴值班令牌（amur token issue 生成）",
    viewer: "观察员", duty_officer: "值班员", admin: "管理员",
    cameras: "摄像头", gauges: "水文站", cells: "网格", incidents_layer: "事件", rivers: "河流",
    offline: "离线", frozen: "画面冻结", dark: "画面过暗", overexposed: "过曝", blurred: "模糊", covered: "遮挡",
    moved: "移位", corrupt: "图像损坏", auth_failed: "认证失败", clock_offset: "时钟偏差", timeout: "超时", http_error: "接口错误", circuit_open: "熔断",
    unknown: "未知", online: "在线", faulty: "故障", village: "村", cell: "网格",
    grid_events: "网格事件", no_requests: "暂无网格事件", requests_layer: "网格事件",
    req_received: "待受理", req_accepted: "已受理", req_assigned: "已派遣", req_in_progress: "处置中",
    req_resolved: "已办结", req_rerouted: "已改派", req_rejected: "已退回", req_closed: "已关闭",
    req_overdue: "超时", req_queue: "待分拨", req_unmapped: "未匹配权责事项", req_city: "全市",
    channel_open311: "市民上报", channel_110: "110转办",
  },
  en: {
    title: "Heihe Emergency Command Centre", subtitle: "The whole city on one screen, command from one map",
    drill_banner: "EXERCISE — this view shows a drill, not real events",
    demo_banner: "DEMONSTRATION — a simulated city: its data and incidents are not real",
    kpi_sources: "Sources live/stale", kpi_events: "Events/s", kpi_cameras: "Cameras online/faulty", kpi_open: "Open incidents",
    kpi_sampling: "Sampling behind: served/planned frames/s", sampling_past_max: "past max interval",
    sampling_claimed_behind: "prioritised late",
    incidents: "Incidents", map: "City situation", video_wall: "Linked cameras", hydrograph: "Hydrograph",
    flood: "Flood", fire: "Fire", camera_fault: "Camera fault", source_outage: "Source outage", public_safety: "Public safety", other: "Other",
    hazard_flood: "Flood risk", hazard_fire: "Fire danger",
    raised: "Raised", acknowledged: "Acknowledged", assigned: "Assigned", resolved: "Resolved", expired: "Expired",
    acknowledge: "Ack", assign: "Assign", resolve: "Resolve", evidence: "evidence", age: "age",
    no_incidents: "No incidents", select_incident: "Select an incident to see its cameras", no_cameras: "No cameras linked",
    no_frame: "No recent frame", select_gauge: "Select a gauge on the map",
    stage: "Stage", warning_level: "Warning level", guaranteed_level: "Guaranteed level", observed: "Observed", forecast: "Forecast",
    crest: "Crest", band: "Forecast band", crest_revised: "No. {no} crest revised: {stage} m at {time}",
    accepted: "Command sent", refused: "Command refused",
    live: "live", stale: "stale", unseen: "unseen", out_of_range: "out of range",
    infrastructure: "Infrastructure", government_services: "Government services", economy: "Economy", culture: "Culture",
    ecology_environment: "Ecology & environment", livelihood: "Livelihood", unregistered: "Unregistered",
    login: "Enter", login_hint: "Paste your duty token (from amur token issue)",
    viewer: "viewer", duty_officer: "duty officer", admin: "admin",
    cameras: "Cameras", gauges: "Gauges", cells: "Grid cells", incidents_layer: "Incidents", rivers: "Rivers",
    offline: "Offline", frozen: "Frozen", dark: "Too dark", overexposed: "Overexposed", blurred: "Blurred", covered: "Covered",
    moved: "Moved", corrupt: "Corrupt", auth_failed: "Auth failed", clock_offset: "Clock off", timeout: "Timeout", http_error: "HTTP error", circuit_open: "Circuit open",
    unknown: "Unknown", online: "Online", faulty: "Faulty", village: "village", cell: "cell",
    grid_events: "Grid events", no_requests: "No grid events", requests_layer: "Grid events",
    req_received: "Received", req_accepted: "Accepted", req_assigned: "Assigned", req_in_progress: "In progress",
    req_resolved: "Resolved", req_rerouted: "Re-routed", req_rejected: "Rejected", req_closed: "Closed",
    req_overdue: "Overdue", req_queue: "Queue", req_unmapped: "no responsibility item matches",
    req_city: "city-wide", channel_open311: "Citizen", channel_110: "110",
  },
};

let lang = "zh";

export function t(key) {
  return STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
}

export function language() { return lang; }

// "No. 5 crest revised: 7.61 m at 14:00" (wall clock time), after the gauge's name when it is known.
export function crestRevised(crest, gauge) {
  const time = new Date(crest.crest_time).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB",
    { hour: "2-digit", minute: "2-digit", hour12: false });
  const text = t("crest_revised").replace("{no}", crest.crest_no).replace("{stage}", crest.stage_m.toFixed(2))
    .replace("{time}", time);
  return gauge ? `${placeName(gauge)} · ${text}` : text;
}

export function setLanguage(next) {
  lang = next;
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}

export function placeName(props) {
  return lang === "zh" ? (props.name_zh || props.name) : (props.name || props.name_zh);
}
