"""Builds the annual report of a year: every figure from the database, then tables and summary from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.errors import BadInput
from fangxun.report.drill_figures import drill_figures
from fangxun.report.event_figures import decision_figures, event_figures
from fangxun.report.model import AnnualReport
from fangxun.report.period import MAX_YEAR, MIN_YEAR, local_iso, month_starts
from fangxun.report.plan_figures import plan_figures
from fangxun.report.summary import summary_text
from fangxun.report.tables import report_tables
from fangxun.report.warning_figures import (ISSUED, decision_notices, notification_figures, warning_figures,
                                            weather_warnings)
from fangxun.settings import Settings
from fangxun.warnings.tables import Warning


def check_year(year: int) -> int:
    """`year` if the report can be built for it, else BadInput naming the field."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise BadInput(f"year：年份应在 {MIN_YEAR} 到 {MAX_YEAR} 之间：{year}", extra={"field": "year"})
    return year


async def annual_figures(session: AsyncSession, settings: Settings, year: int) -> dict:
    """The figures of the local calendar year `year` (JSON-ready, English keys)."""
    check_year(year)
    zone = settings.registry.timezone
    months = month_starts(year, zone)
    start, end = months[0], months[-1]
    events = await event_figures(session, start, end, zone)
    journal = events.pop("journal")
    events["labels"] = {kind: entry.label for kind, entry in settings.events.kinds.items()}
    return {
        "year": year,
        "zone": zone,
        "period": {"start": local_iso(start, zone), "end": local_iso(end, zone)},
        "plans": await plan_figures(session, settings, year),
        "events": events,
        "warnings": await warning_figures(session, months),
        "notifications": {
            # the notices of the warnings counted as issued (an all-clear's notice asks for no 叫应)
            "warnings": await notification_figures(
                session, [*weather_warnings(start, end), Warning.msg_type.in_(ISSUED), Warning.all_clear.is_(False)]),
            "decisions": await notification_figures(session, decision_notices(start, end)),
        },
        "decisions": await decision_figures(session, start, end, zone),
        # Drills and exercise warnings: their own section, never among the warnings issued.
        "drills": await drill_figures(session, start, end, zone),
        "journal": journal,
    }


def report_from_figures(figures: dict, generated_at: datetime) -> AnnualReport:
    """The report (tables and summary) of already gathered figures."""
    return AnnualReport(year=figures["year"], generated_at=generated_at, figures=figures,
                        tables=report_tables(figures), summary=summary_text(figures))


async def build_annual_report(session: AsyncSession, settings: Settings, year: int,
                              generated_at: datetime) -> AnnualReport:
    """The annual report of `year`, stamped `generated_at` (the caller's clock)."""
    return report_from_figures(await annual_figures(session, settings, year), generated_at)
