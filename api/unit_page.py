"""The printable contact sheet of one unit (联系单), in Chinese; api/templates/unit.html draws it."""

from __future__ import annotations

from fangxun.api.templating import render
from fangxun.plans.unit_rules import LEVEL_LABELS
from fangxun.plans.unit_status import UNIT_STATUS_LABELS


def unit_page(sheet: dict, user: str, kind_labels: dict[str, str]) -> str:
    """The contact sheet: breadcrumb, plans, responsible persons, shelters and the units below."""
    return render("unit.html", title=f"{sheet['name']}联系单", user=user, sheet=sheet,
                  level_label=LEVEL_LABELS[sheet["level"]], status_labels=UNIT_STATUS_LABELS,
                  missing_kinds=[kind_labels.get(kind, kind) for kind in sheet["missing_kinds"]],
                  plan_kinds={plan["id"]: plan["kind_label"] for plan in sheet["plans"]})
