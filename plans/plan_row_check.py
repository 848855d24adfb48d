"""A plan file's rows checked as PlanFields checks them, with the same reasons, by plain functions: a 110,000-row file
spent half its import in building the model row by row. A file repeats its kinds, states, cycles and dates, so each
distinct text of those is parsed once per file."""

from __future__ import annotations

from annotated_types import Ge, Le, MaxLen, MinLen

from fangxun.plans.plan_fields import (PlanFields, parse_cycle, parse_date, parse_kind, parse_lifecycle,
                                       parse_unit_code, review_order_problem)

# The fields' before-validators, remembered per text; the model's other fields are text with lengths.
_PARSERS = {"unit_code": parse_unit_code, "kind": parse_kind, "approved_on": parse_date,
            "last_reviewed_on": parse_date, "review_cycle_months": parse_cycle, "lifecycle": parse_lifecycle}
_CHECKS = {MinLen: "min_length", MaxLen: "max_length", Ge: "ge", Le: "le"}
# A file's distinct texts remembered per field at most (a file with more parses the rest each time).
REMEMBER_MAX = 200_000


def _limits(name: str) -> tuple[tuple[str, object], ...]:
    """(check, bound) of a field's declared constraints, in the model's words."""
    return tuple((_CHECKS[type(item)], getattr(item, _CHECKS[type(item)]))
                 for item in PlanFields.model_fields[name].metadata if type(item) in _CHECKS)


def _lengths(name: str) -> tuple[int, float]:
    """The shortest and longest text a field without a parser takes."""
    limits = dict(_limits(name))
    return limits.get("min_length", 0), limits.get("max_length", float("inf"))


def _limit_problem(value, check: str, bound) -> str | None:
    if check == "min_length" and len(value) < bound:
        return "不能为空"
    if check == "max_length" and len(value) > bound:
        return f"不能超过 {bound} 个字"
    if check == "ge" and value is not None and value < bound:
        return f"不能小于 {bound}"
    if check == "le" and value is not None and value > bound:
        return f"不能大于 {bound}"
    return None


def _field(name: str, text: str, limits: tuple) -> tuple[object, str | None]:
    """(value, None) or (None, reason) of one field's text."""
    parse = _PARSERS.get(name)
    value = text
    if parse is not None:
        try:
            value = parse(text)
        except ValueError as exc:
            return None, str(exc)
    for check, bound in limits:
        reason = _limit_problem(value, check, bound)
        if reason:
            return None, reason
    return value, None


class PlanCellChecker:
    """Checks rows of one file; call it with a row's non-blank text cells."""

    def __init__(self):
        # (field, required, default, limits, remembered results by text or None, (shortest, longest) text)
        self._fields = [(name, info.is_required(), info.default, _limits(name), {} if name in _PARSERS else None,
                         _lengths(name)) for name, info in PlanFields.model_fields.items()]

    def __call__(self, cells: dict[str, str]) -> tuple[dict | None, list[tuple[str | None, str]]]:
        """The plan fields of the cells as PlanFields(**cells).model_dump() gives them: (values, []) or
        (None, [(field, reason), …]) with the model's reasons in its field order (field None: the whole row)."""
        values, problems = {}, []
        for name, required, default, limits, remembered, (shortest, longest) in self._fields:
            text = cells.get(name)
            if text is None:
                if required:
                    problems.append((name, "不能为空"))
                else:
                    values[name] = default
                continue
            if remembered is None:
                value, reason = (text, None) if shortest <= len(text) <= longest else _field(name, text, limits)
            else:
                found = remembered.get(text)
                if found is None:
                    found = _field(name, text, limits)
                    if len(remembered) < REMEMBER_MAX:
                        remembered[text] = found
                value, reason = found
            if reason is None:
                values[name] = value
            else:
                problems.append((name, reason))
        if problems:
            return None, problems
        problem = review_order_problem(values["approved_on"], values["last_reviewed_on"])
        return (None, [(None, problem)]) if problem else (values, [])


def check_plan_cells(cells: dict[str, str]) -> tuple[dict | None, list[tuple[str | None, str]]]:
    """One row's cells checked as PlanCellChecker checks them (nothing remembered)."""
    return PlanCellChecker()(cells)
