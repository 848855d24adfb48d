"""A drill's report as XLSX: 按区县 (the figures of each district) and 人员明细 (one row per person or desk)."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font

DISTRICT_COLUMNS = (("district_name", "区县"), ("told", "通知人数"), ("answered", "按时叫应"), ("late", "逾期叫应"),
                    ("unreachable", "未联系上"), ("no_contact", "无联系方式"), ("failed", "送达失败"),
                    ("no_answer", "到时未叫应"), ("waiting", "等待中"), ("median_minutes", "叫应用时中位数（分钟）"),
                    ("max_minutes", "最长叫应用时（分钟）"))
PERSON_COLUMNS = (("district_name", "区县"), ("unit_name", "区划"), ("level_label", "层级"), ("name", "姓名"),
                  ("channels", "渠道"), ("outcome_label", "结果"), ("answered_at", "叫应时间"),
                  ("minutes_to_answer", "叫应用时（分钟）"), ("escalated", "已上报"), ("detail", "说明"))


def _local(text: str | None, zone: str) -> str:
    return "" if not text else datetime.fromisoformat(text).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def _value(key: str, item: dict, zone: str):
    value = item.get(key)
    if key == "answered_at":
        return _local(value, zone)
    if key == "channels":
        return "、".join(value or ())
    if key == "escalated":
        return "是" if value else ""
    return "" if value is None else value


def report_xlsx(report: dict, zone: str) -> bytes:
    """The workbook of `report` (drills.report.drill_report), times shown in `zone`."""
    book = Workbook()
    sheets = ((book.active, "按区县", DISTRICT_COLUMNS, [*report["districts"],
                                                      {"district_name": "合计", **report["totals"]}]),
              (book.create_sheet(), "人员明细", PERSON_COLUMNS, report["persons"]))
    for sheet, title, columns, items in sheets:
        sheet.title = title
        sheet.append([label for _, label in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for item in items:
            sheet.append([_value(key, item, zone) for key, _ in columns])
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
