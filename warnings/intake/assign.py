"""Units assigned by hand to a warning whose areas could not be placed (区域无法定位), each with everything below it
(copied by the database, never read); then it fans out as usual."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.audit import record
from fangxun.core.errors import BadInput, Conflict, NotFound
from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_queries import top_codes
from fangxun.plans.unit_rules import full_code
from fangxun.plans.unit_search import PATH_SEPARATOR, place_labels
from fangxun.settings import Settings
from fangxun.warnings.delivery.notices import signed_writer
from fangxun.warnings.delivery.outbox import Claimed, Handoff
from fangxun.warnings.intake.accept import first_notices
from fangxun.warnings.intake.fanout import fan_out, staff_desks
from fangxun.warnings.intake.normalised import NormalisedWarning, WarningArea
from fangxun.warnings.intake.placing import Placed, write_warned_units
from fangxun.warnings.routing.jurisdiction import INSIDE, UNLOCATED, within_jurisdiction
from fangxun.warnings.routing.recipients import WarnedUnit
from fangxun.warnings.tables import Warning

MAX_ASSIGNED = 500


@dataclass
class Assignment:
    """What assigning units to an unplaced warning did."""

    warning: Warning
    units: int = 0
    notifications: int = 0
    unreachable: int = 0
    names: list[str] = field(default_factory=list)
    handed: list[Claimed] = field(default_factory=list)

    def as_json(self) -> dict:
        """Plain JSON for the API."""
        return {"warning_id": self.warning.id, "jurisdiction": self.warning.jurisdiction, "units": self.units,
                "assigned": self.names, "notifications": self.notifications, "unreachable": self.unreachable}


def parse_unit_codes(raw: object) -> list[str]:
    """The 12-digit codes of a JSON list (6/9/12-digit codes accepted), each once; BadInput naming the entry."""
    if not isinstance(raw, list) or not raw:
        raise BadInput("unit_codes：应为非空的区划代码列表", extra={"field": "unit_codes"})
    if len(raw) > MAX_ASSIGNED:
        raise BadInput(f"unit_codes：一次最多指定 {MAX_ASSIGNED} 个区划", extra={"field": "unit_codes"})
    codes = []
    for index, item in enumerate(raw):
        code = full_code(item) if isinstance(item, str) else None
        if code is None:
            raise BadInput(f"unit_codes[{index}]：{str(item)[:40]!r} 不是 6、9 或 12 位区划代码",
                           extra={"field": f"unit_codes[{index}]"})
        codes.append(code)
    return list(dict.fromkeys(codes))


async def _checked_units(session: AsyncSession, codes: list[str]) -> tuple[Placed, list[str]]:
    """The named units placed (each with everything below it), and their names with their district
    (乙区新华路街道); BadInput for an unknown code or one outside the jurisdiction."""
    tops = await top_codes(session)
    named = {code: label.replace(PATH_SEPARATOR, "") for code, label in (await place_labels(session, codes)).items()}
    for index, code in enumerate(codes):
        if code not in named:
            raise BadInput(f"unit_codes[{index}]：区划代码 {code} 不在登记库中", extra={"field": f"unit_codes[{index}]"})
        if not within_jurisdiction(code, tops):
            raise BadInput(f"unit_codes[{index}]：区划 {named[code]}（{code}）不在本辖区内",
                           extra={"field": f"unit_codes[{index}]"})
    rows = await session.execute(select(AdminUnit.code, AdminUnit.level).where(AdminUnit.code.in_(codes)))
    units = sorted((WarnedUnit(code, level, 1.0) for code, level in rows), key=lambda unit: unit.code)
    return Placed(units, [], INSIDE), [named[code] for code in codes]


async def assign_units(session: AsyncSession, warning_id: int, codes: list[str], settings: Settings, now: datetime,
                       actor: str, handoff: Handoff | None = None) -> Assignment:
    """Give an unplaced warning in force its units by hand and write its notifications, in the caller's
    transaction (rows leased to `handoff` are in `handed`, for the caller to give after commit)."""
    row = (await session.execute(select(Warning).where(Warning.id == warning_id).with_for_update())).scalar_one_or_none()
    if row is None:
        raise NotFound(f"预警 {warning_id} 不存在")
    if row.jurisdiction != UNLOCATED:
        raise Conflict(f"预警 {warning_id} 的区域已能定位（{'辖区外' if row.jurisdiction == 'outside' else '已有影响区划'}），"
                       "无需人工指定")
    if row.status != "active":
        raise Conflict(f"预警 {warning_id} 已不再生效，不再通知")
    placed, names = await _checked_units(session, codes)
    stored = NormalisedWarning.from_json(row.document)
    # People read the units the editor picked, not the description nobody could place.
    warning = dataclasses.replace(stored, areas=(WarningArea("、".join(names)),))
    fan = await fan_out(session, warning, settings.warnings, placed, INSIDE, now)
    levels, _ = await write_warned_units(session, row.id, placed)
    earlier = dict(row.messages or {})
    recipients = await staff_desks(session, fan.recipients, settings.warnings, now)
    notices = await first_notices(session, row, warning, fan, recipients, settings)
    row.messages = {**earlier, **(row.messages or {})}  # the duty desk's notice keeps its text
    writer = await signed_writer(session, settings.warnings.quiet_hours, handoff)
    handed = await writer.write(session, notices, now)
    row.jurisdiction = INSIDE
    row.notes = [*(row.notes or []), f"{actor} 人工指定影响区划：{'、'.join(names)}"]
    result = Assignment(row, units=sum(levels.values()), notifications=len(fan.recipients),
                        unreachable=sum(1 for r in fan.recipients if r.problem), names=names, handed=handed)
    await record(session, actor, "warning.assign_units", "warning", row.id,
                 before={"jurisdiction": UNLOCATED}, after={"units": codes, "notifications": result.notifications})
    return result
