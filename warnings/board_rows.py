"""The duty board's rows in SQL: the first notices and escalations of some messages (reminders folded into the notice
they repeat), each with the 叫应 deadline that applies now (its latest delivered reminder's, else its own), the place
of its unit, its counts and filters, and its group of district → township → village or the department desks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, false, func, or_, select

from fangxun.plans.models import AdminUnit
from fangxun.warnings.board_rules import DESKS, OTHER, SELF, BoardFilter, GroupKey, phone_digits
from fangxun.warnings.tables import Notification

N = Notification.__table__
U = AdminUnit.__table__
DESK_KINDS = ("department", "department_leader", "duty_desk", "duty_leader")
_FAILED = ("failed", "dead")


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, LIKE's own characters taken literally (escape \\)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class BoardRows:
    """The rows of `warning_ids` as the board reads them at `now`: `source` to select from (with the place of each
    row's unit), `where` to keep, and the SQL of each count, filter, group and the order of urgency."""

    def __init__(self, warning_ids: list[int], now: datetime):
        reminder = N.alias("reminder")
        self.reminded = (select(reminder.c.escalated_from_id.label("source"),
                                func.max(reminder.c.ack_deadline).label("deadline"))
                         .where(reminder.c.warning_id.in_(warning_ids), reminder.c.purpose == "reminder")
                         .group_by(reminder.c.escalated_from_id).subquery("reminded"))
        # The deadline that applies now: a reminder restarts the clock once it is delivered.
        self.deadline = func.coalesce(self.reminded.c.deadline, N.c.ack_deadline)
        # Counts by message need no place: `counted` leaves the units out.
        self.counted = N.outerjoin(self.reminded, self.reminded.c.source == N.c.id)
        self.source = self.counted.outerjoin(U, U.c.code == N.c.unit_code)
        self.where = [N.c.warning_id.in_(warning_ids), N.c.purpose != "reminder"]
        self.now = now

    # --- counts (each one a filter of the same name) --------------------------------------------------------

    def flags(self) -> dict:
        """SQL condition of each count but the total, by its key in board_rules.COUNT_KEYS."""
        open_ = N.c.acked_at.is_(None)
        informed = and_(open_, N.c.status == "delivered", self.deadline.is_(None))
        return {
            "unacknowledged": and_(open_, N.c.status.in_(("pending", "sending", "delivered")),
                                   or_(N.c.status != "delivered", self.deadline.is_not(None))),
            "overdue": and_(open_, N.c.status != "cancelled", self.deadline.is_not(None), self.deadline < self.now),
            "escalated": N.c.escalated_at.is_not(None),
            "failed": and_(open_, N.c.status.in_(_FAILED), N.c.address != ""),
            "unreachable": and_(open_, N.c.status.in_(_FAILED), N.c.address == ""),
            "acknowledged": N.c.acked_at.is_not(None),
            "informed": informed,
            "cancelled": and_(open_, N.c.status == "cancelled"),
        }

    def count_columns(self) -> list:
        """Aggregates: the total and the sum of each flag, labelled by key."""
        return [func.count().label("total"),
                *(func.sum(case((flag, 1), else_=0)).label(key) for key, flag in self.flags().items())]

    def rank(self):
        """Most urgent first: overdue, undeliverable, escalated, waiting to be sent, waiting for 叫应, told only,
        acknowledged, withdrawn."""
        flags = self.flags()
        return case((flags["overdue"], 0), (or_(flags["failed"], flags["unreachable"]), 1),
                    (and_(N.c.acked_at.is_(None), N.c.escalated_at.is_not(None)), 2),
                    (and_(N.c.acked_at.is_(None), N.c.status.in_(("pending", "sending"))), 3),
                    (flags["unacknowledged"], 4), (flags["informed"], 5), (flags["acknowledged"], 6), else_=7)

    # --- filters and groups ---------------------------------------------------------------------------------

    def filtered(self, wanted: BoardFilter) -> list:
        """Conditions of the filters set in `wanted`."""
        conditions = []
        if wanted.state:
            conditions.append(self.flags()[wanted.state])
        if wanted.level:
            conditions += [N.c.recipient_kind == "person", N.c.level == wanted.level]
        if wanted.department:
            conditions += [N.c.recipient_kind.in_(("department", "department_leader")),
                           N.c.recipient_key == wanted.department]
        if wanted.query:
            pattern = like_pattern(wanted.query)
            found = [N.c.recipient_name.like(pattern, escape="\\"), U.c.name.like(pattern, escape="\\")]
            digits = phone_digits(wanted.query)
            if digits:  # stored numbers may carry separators: 139-0000-0008
                bare = func.replace(func.replace(N.c.address, "-", ""), " ", "")
                found.append(bare.like(like_pattern(digits), escape="\\"))
            conditions.append(or_(*found))
        return conditions

    @staticmethod
    def in_group(group: GroupKey | None) -> list:
        """Conditions of the rows of `group` (none for no group)."""
        if group is None:
            return []
        if group.kind == DESKS:
            return [N.c.recipient_kind != "person"]
        person = N.c.recipient_kind == "person"
        if group.kind == OTHER:
            return [person, or_(U.c.code.is_(None), U.c.district_code.is_(None))]
        if group.kind == SELF or group.level in ("city", "village"):
            return [person, U.c.code == group.code]
        column = U.c.district_code if group.level == "district" else U.c.township_code
        return [person, column == group.code]

    @staticmethod
    def children(parent: GroupKey | None) -> tuple[list, list, object]:
        """For the groups one level below `parent` (None: the top): their conditions, the columns to group by and
        the SQL of a row lying deeper than the child group it falls in."""
        person = N.c.recipient_kind == "person"
        if parent is None:
            return [], [N.c.recipient_kind, U.c.district_code], U.c.township_code.is_not(None)
        if parent.level == "district":
            return [person, U.c.district_code == parent.code], [U.c.township_code], U.c.code != U.c.township_code
        return [person, U.c.township_code == parent.code], [U.c.code], false()
