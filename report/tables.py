"""The report's tables from its figures: Chinese titles, headers and footnotes. Pure."""

from __future__ import annotations

from fangxun.plans.plan_fields import KIND_LABELS, STATUS_LABELS
from fangxun.plans.review_clock import STATUSES
from fangxun.plans.unit_rules import LEVEL_LABELS, LEVELS
from fangxun.report.model import Table
from fangxun.report.period import ACK_BUCKETS
from fangxun.warnings.acks.ways import WAY_LABELS, WAY_ORDER
from fangxun.warnings.events.config import DECISION_ACTIONS, DECISION_LABELS
from fangxun.warnings.events.config import LEVEL_LABELS as RESPONSE_LABELS
from fangxun.warnings.events.journal_rules import FIGURE_LABELS, JOURNAL_FIGURES
from fangxun.warnings.vocabulary import COLOUR_LABELS, COLOURS

MONTHS = tuple(f"{month}月" for month in range(1, 13))
STATUS_COLUMNS = ("预案总数", *(STATUS_LABELS[status] for status in STATUSES))
NOT_REPORTED = "未报告"
PLAN_NOTE = ("状态按登记库现有记录以当年12月31日为基准推算（评估周期与即将到期天数见配置）。登记库不保存删除记录，"
             "已废止预案保留并计为“已废止”（综述中的预案数不含已废止）；年末之后新增的预案也会计入，生成往年报告时请留意。")


def local_text(iso: str | None) -> str | None:
    """2025-07-20T08:30+08:00 shown as 2025-07-20 08:30."""
    return None if iso is None else iso[:16].replace("T", " ")


def response_label(level: int | None) -> str | None:
    return None if level is None else RESPONSE_LABELS.get(level, str(level))


def _status_row(label: str, counts: dict) -> tuple:
    return (label, sum(counts.values()), *(counts[status] for status in STATUSES))


def _total_row(rows: list[tuple], label: str = "合计", skip: int = 1) -> tuple:
    sums = [sum(row[index] or 0 for row in rows) for index in range(skip, len(rows[0]))] if rows else []
    return (label, *([""] * (skip - 1)), *sums)


def plan_tables(plans: dict) -> list[Table]:
    """Plans by level, kind and district; coverage at year end and its gaps; reviews in the year."""
    levels = [_status_row(LEVEL_LABELS[level], plans["by_level"][level]) for level in LEVELS
              if level in plans["by_level"]]
    kinds = [_status_row(KIND_LABELS.get(kind, kind), counts) for kind, counts in plans["by_kind"].items()]
    districts = [(d["name"], d["code"] or "", d["total"], *(d["by_status"][s] for s in STATUSES))
                 for d in plans["by_district"]]
    coverage = [(LEVEL_LABELS.get(level, level), entry["units"], entry["complete"], entry["with_gaps"])
                for level, entry in plans["coverage"].items()]
    coverage_kinds = [(LEVEL_LABELS.get(level, level), KIND_LABELS.get(kind, kind), entry["units"],
                       states["valid"], states["overdue"], states["missing"])
                      for level, entry in plans["coverage"].items() for kind, states in entry["kinds"].items()]
    gaps = [(gap["code"], gap["name"], LEVEL_LABELS.get(gap["level"], gap["level"]),
             "、".join(KIND_LABELS.get(kind, kind) for kind in gap["missing_kinds"])) for gap in plans["gaps"]]
    reviews = [("年内评估或修订的预案", plans["reviewed_in_year"]), ("其中：年内修订的预案", plans["revised_in_year"]),
               ("年内批准的预案", plans["approved_in_year"]), ("年内废止的预案", plans["withdrawn_in_year"]),
               ("年末逾期未评估的预案", plans["by_status"]["overdue"]),
               ("年末即将到期的预案", plans["by_status"]["due_soon"])]
    return [
        Table("plans_by_level", "预案（按级别）", ("级别", *STATUS_COLUMNS), tuple(levels + [_total_row(levels)]),
              PLAN_NOTE),
        Table("plans_by_kind", "预案（按类型）", ("预案类型", *STATUS_COLUMNS), tuple(kinds + [_total_row(kinds)]),
              PLAN_NOTE),
        Table("plans_by_district", "预案状态（按区县）", ("区县", "区划代码", *STATUS_COLUMNS),
              tuple(districts + [_total_row(districts, skip=2)]),
              "每个区县含其下属乡镇（街道）和村（社区）的预案；“市本级”为市级预案。"),
        Table("coverage", "预案覆盖（年末）", ("级别", "区划数", "应有预案齐全", "有缺口"), tuple(coverage),
              "“应有预案齐全”指该级别要求的每类预案都有效（未逾期、未废止）；“有缺口”指至少缺一类（没有或已废止）。"),
        Table("coverage_by_kind", "预案覆盖（按级别和类型）", ("级别", "应有预案类型", "区划数", "有效", "逾期未评估", "缺失"),
              tuple(coverage_kinds), "各级别应有的预案类型见配置 registry.required_kinds。"),
        Table("coverage_gaps", "覆盖缺口明细", ("区划代码", "名称", "级别", "缺少的预案类型"), tuple(gaps),
              f"年末共 {plans['gap_units']} 个区划至少缺一类应有预案。"),
        Table("plan_reviews", "预案评估修订", ("项目", "预案数"), tuple(reviews),
              "评估或修订：当年登记了评估、修订记录，或最近评估日期在当年的预案，每件只计一次。"
              "年内废止按废止记录计；登记库不保存删除记录。"),
    ]


def month_table(figures: dict) -> Table:
    """Events (by kind) and warnings issued per local month."""
    events = figures["events"]
    rows = [(events["labels"].get(kind, kind), *counts, sum(counts)) for kind, counts in events["by_month"].items()]
    warnings = figures["warnings"]["by_month"]
    rows.append(("气象预警发布（次）", *warnings, sum(warnings)))
    return Table("by_month", "各月统计", ("项目", *MONTHS, "合计"), tuple(rows),
                 "过程按开始时间、预警按接收时间计入月份（北京时间）。")


def event_tables(figures: dict) -> list[Table]:
    """The events of the year, one row each, with their journal figures."""
    events = figures["events"]
    shown = ("evacuated", "housed", "deaths", "missing", "injured", "economic_loss")
    rows = [(event["name"], events["labels"].get(event["kind"], event["kind"]), local_text(event["started_at"]),
             local_text(event["ended_at"]) or "进行中", event["warnings"], response_label(event["highest_level"]) or "未启动",
             *(event["figures"][name] for name in shown)) for event in events["list"]]
    counts = "、".join(f"{events['labels'].get(kind, kind)}{count}轮" for kind, count in events["by_kind"].items())
    return [Table("events", "应对过程一览", ("过程名称", "类型", "开始时间", "结束时间", "关联预警（条）", "最高响应级别",
                                         *(FIGURE_LABELS[name] for name in shown)), tuple(rows),
                  f"当年开始的过程：{counts}。灾情数字为各单位填报的事件日志合计（更正记录取代被更正的记录），空白为未填报。")]


def warning_table(warnings: dict) -> Table:
    """Warnings issued by type and colour."""
    rows = [(event, *(counts[colour] for colour in (*COLOURS, "none")), counts["total"])
            for event, counts in warnings["by_event"].items()]
    if rows:
        rows.append(_total_row(rows))
    return Table("warnings", "气象预警发布（按类型和颜色）",
                 ("预警类型", *(COLOUR_LABELS[colour] for colour in COLOURS), "无颜色", "合计"), tuple(rows),
                 f"按接收时间计当年收到的气象预警消息：首发（Alert）和更新（Update）各计一次；演练（Exercise）不计入，见“演练”表；"
                 f"解除（Cancel）不计为发布，另有 {warnings['cancels']} 条解除。应急响应决定通知不计入。")


CALL_ITEMS = (("拨打电话（次）", "calls"), ("已接听", "answered"), ("未接通", "not_answered"),
              ("提前挂机", "hung_up_early"), ("呼叫失败", "failed"), ("无结果", "no_result"), ("按1确认", "key_1"))


def notification_tables(notifications: dict) -> list[Table]:
    """叫应 figures of weather-warning notifications and of decision notices, side by side."""
    weather, decisions = notifications["warnings"], notifications["decisions"]
    items = (("首次通知（条）", "notices"), ("已发送", "sent"), ("已送达", "delivered"), ("已叫应", "acknowledged"),
             ("叫应率（%）", "ack_rate"), ("叫应用时中位数（分钟）", "median_ack_minutes"),
             ("叫应用时第90百分位（分钟）", "p90_ack_minutes"), ("逾期后叫应", "acknowledged_late"),
             ("重复提醒（条）", "reminders"), ("逐级上报（条）", "escalations"), ("发送失败", "failed"),
             ("多次发送失败", "dead"))
    rows = tuple((label, weather[key], decisions[key]) for label, key in items)
    ways = tuple((f"其中{WAY_LABELS[way]}确认", weather["acknowledged_by"][way], decisions["acknowledged_by"][way])
                 for way in WAY_ORDER)
    calls = tuple((label, weather["calls"][key], decisions["calls"][key]) for label, key in CALL_ITEMS)
    histogram = tuple((label, weather["ack_histogram"][index], decisions["ack_histogram"][index])
                      for index, (label, _) in enumerate(ACK_BUCKETS))
    columns = ("项目", "气象预警通知", "应急响应决定通知")
    return [
        Table("notifications", "通知与叫应", columns, rows,
              "只计首次通知（重复提醒和逐级上报另列）；已发送=至少尝试发送一次或已送达；叫应率=已叫应÷已送达；"
              "叫应用时=叫应时间−送达时间，中位数和第90百分位按最近秩法（取排序后第⌈p·n⌉个值）。"),
        Table("ack_ways", "叫应方式", columns, ways,
              "首次通知的叫应按方式计：链接（短信、企业微信等消息中的确认链接，含接口确认）、语音按键（电话中按1）、"
              "短信回复（回复1、收到或确认），合计等于“已叫应”。"),
        Table("calls", "电话叫应", columns, calls,
              "每次拨打计一次（含重拨、提醒和逐级上报的电话）；未接通=无人接听、占线或拒接；提前挂机=接听时间短于"
              "配置的收听秒数且未按1；无结果=尚未收到呼叫结果。"),
        Table("ack_times", "叫应用时分布", ("用时", *columns[1:]), histogram, "区间含上限，如“5–15分钟”含15分钟。"),
    ]


def decision_tables(decisions: dict) -> list[Table]:
    """Decisions by level and action, and each decision with the time from its triggering warning."""
    by_level = [(response_label(entry["level"]), *(entry[action] for action in DECISION_ACTIONS),
                 sum(entry[action] for action in DECISION_ACTIONS)) for entry in decisions["by_level"]]
    listed = [(d["event_name"], DECISION_LABELS.get(d["action"], d["action"]), response_label(d["level"]),
               response_label(d["previous_level"]), response_label(d["proposed_level"]), local_text(d["trigger_at"]),
               local_text(d["decided_at"]), d["minutes"], d["decided_by"]) for d in decisions["list"]]
    median = "—" if decisions["median_minutes"] is None else f"{decisions['median_minutes']:g} 分钟"
    longest = "—" if decisions["max_minutes"] is None else f"{decisions['max_minutes']:g} 分钟"
    return [
        Table("decisions_by_level", "应急响应决定（按级别）",
              ("响应级别", *(DECISION_LABELS[action] for action in DECISION_ACTIONS), "合计"),
              tuple(by_level + [_total_row(by_level)]), "按决定时间计当年的决定；终止决定记其结束的级别。"),
        Table("decisions", "应急响应决定明细", ("过程", "决定", "响应级别", "原级别", "建议级别", "触发预警时间",
                                              "决定时间", "用时（分钟）", "决定人"), tuple(listed),
              f"用时=会商决定时间−触发预警接收时间；中位数（最近秩法）{median}，最长 {longest}。"),
    ]


def journal_table(journal: dict) -> Table:
    """The journal figures over the year's events."""
    totals = journal["totals"]
    rows = tuple((FIGURE_LABELS[name], NOT_REPORTED if totals[name] is None else totals[name])
                 for name in JOURNAL_FIGURES)
    return Table("journal", "灾情与处置（合计）", ("项目", "合计"), rows,
                 f"当年开始的过程的事件日志 {journal['entries']} 条；更正记录取代被更正的记录；“未报告”指没有任何单位填报该项。")


DRILL_KINDS = {"drill": "叫应演练", "exercise_warning": "演练预警"}


def drill_table(drills: dict) -> Table:
    """Drills and exercise warnings of the year, apart from the warnings issued."""
    rows = tuple((DRILL_KINDS[item["kind"]], local_text(item["at"]), item["name"] + ("（已取消）" if item["cancelled"]
                                                                                  else ""),
                  item["notices"], item["acknowledged"], item["ack_rate"]) for item in drills["items"])
    return Table("drills", "演练（不计入预警发布）", ("类型", "时间", "名称", "通知（人次）", "已叫应", "叫应率（%）"), rows,
                 f"叫应演练 {drills['drills']} 次，演练预警（CAP Exercise 或录入时选“演练”）{drills['exercise_warnings']} 条；"
                 "均不计入气象预警发布和通知与叫应的统计。")


def report_tables(figures: dict) -> tuple[Table, ...]:
    """Every table of the report, in reading order."""
    return (*plan_tables(figures["plans"]), month_table(figures), *event_tables(figures),
            warning_table(figures["warnings"]), *notification_tables(figures["notifications"]),
            drill_table(figures["drills"]), *decision_tables(figures["decisions"]), journal_table(figures["journal"]))
