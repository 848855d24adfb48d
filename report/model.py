"""The annual report as plain data: named tables with Chinese headers, the figures behind them, the summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    """One table of the report: a key for code, a Chinese title and headers, rows, a footnote."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""

    def as_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "columns": list(self.columns),
                "rows": [list(row) for row in self.rows], "note": self.note}


@dataclass(frozen=True)
class AnnualReport:
    """Everything every format shows: figures (JSON-ready, English keys), tables and the summary paragraph."""

    year: int
    generated_at: datetime
    figures: dict
    tables: tuple[Table, ...]
    summary: str

    def table(self, key: str) -> Table:
        """The table named `key` (KeyError when there is none)."""
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)

    def as_dict(self) -> dict:
        return {"year": self.year, "generated_at": self.generated_at.isoformat(), "summary": self.summary,
                "figures": self.figures, "tables": [table.as_dict() for table in self.tables]}

    @property
    def title(self) -> str:
        return f"{self.year}年防汛工作统计报告"

    def summary_table(self) -> Table:
        """The 摘要: title, period, time of generation and the summary paragraph."""
        period = self.figures.get("period", {})
        zone = ZoneInfo(self.figures.get("zone", "Asia/Shanghai"))
        made = self.generated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        rows = (("报告", self.title), ("统计期间", f"{self.year}年1月1日至12月31日（北京时间）"),
                ("起止时刻", f"{period.get('start', '')} 至 {period.get('end', '')}（不含）"),
                ("生成时间", made), ("摘要", self.summary))
        return Table("summary", "摘要", ("项目", "内容"), rows)

    def filename(self, extension: str) -> str:
        return f"fangxun-annual-{self.year}.{extension}"
