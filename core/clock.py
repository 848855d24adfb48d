"""An injectable clock: aware UTC now, and today's date in the configured zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Clock:
    """Real time by default; tests pass `fixed` to freeze it."""

    zone: str = "Asia/Shanghai"
    fixed: datetime | None = None

    def now(self) -> datetime:
        """The current aware UTC time."""
        return self.fixed.astimezone(timezone.utc) if self.fixed else datetime.now(timezone.utc)

    def today(self) -> date:
        """Today's date in the configured zone."""
        return self.now().astimezone(ZoneInfo(self.zone)).date()
