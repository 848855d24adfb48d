"""The direction of dependencies (DESIGN.md), read from the imports with `ast`: a forbidden arrow fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIPPED = {".venv", ".git", "tests", "build", "dist", "__pycache__"}

# Room -> rooms it must never import. A room is the first part under `fangxun` (`fangxun.settings` and
# `fangxun.schema` are the top's assembly of every section and every table).
FORBIDDEN_ROOMS = {
    "core": {"geo", "plans", "warnings", "report", "demo", "api", "cli", "settings", "schema"},
    "geo": {"plans", "warnings", "report", "demo", "api", "cli", "settings", "schema"},
    "plans": {"warnings", "report", "demo", "api", "cli", "settings", "schema"},
    "warnings": {"report", "demo", "api", "cli"},
    "report": {"demo", "api", "cli"},
    "migrations": {"demo", "api", "cli"},
    "settings": {"demo", "api", "cli"},
    "schema": {"demo", "api", "cli"},
}
# Only the front doors use the demo.
DEMO_USERS = {"demo", "api", "cli"}
# Pure rules: no database, web, scheduler, map or template library.
IO_LIBRARIES = {"sqlalchemy", "aiohttp", "apscheduler", "folium", "jinja2", "asyncpg", "aiosqlite"}
PURE_MODULES = [
    "fangxun.plans.review_clock", "fangxun.plans.unit_rules", "fangxun.plans.unit_status",
    "fangxun.warnings.vocabulary", "fangxun.warnings.intake.cap_shapes", "fangxun.warnings.intake.expiry",
    "fangxun.warnings.routing.tree", "fangxun.warnings.routing.recipients", "fangxun.warnings.routing.templates",
    "fangxun.warnings.routing.wording",
    "fangxun.warnings.routing.quiet_hours", "fangxun.warnings.routing.deadlines",
    "fangxun.warnings.delivery.policy", "fangxun.warnings.delivery.channels.classify",
    "fangxun.warnings.delivery.channels.signing", "fangxun.warnings.delivery.channels.text",
    "fangxun.warnings.delivery.channels.speech", "fangxun.warnings.delivery.channels.voice_protocol",
    "fangxun.warnings.delivery.channels.aliyun_signing", "fangxun.warnings.delivery.channels.aliyun_protocol",
    "fangxun.warnings.acks.tokens", "fangxun.warnings.acks.reply_rules", "fangxun.warnings.acks.inbound_sms",
    "fangxun.warnings.acks.ways", "fangxun.warnings.delivery.limits",
    "fangxun.warnings.events.event_rules", "fangxun.warnings.events.response_rules",
    "fangxun.warnings.events.response_advice", "fangxun.warnings.board_rules",
    "fangxun.warnings.events.journal_rules",
    "fangxun.api.login_limit", "fangxun.core.os_errors",
    "fangxun.warnings.readiness", "fangxun.core.redact", "fangxun.warnings.duty.roster_rules",
    "fangxun.plans.absence_rules", "fangxun.plans.contact_rules", "fangxun.plans.shelter_rules",
]
# The outbox has one writer: rows are made and changed only inside warnings/delivery.
OUTBOX_WRITERS = "fangxun.warnings.delivery"
_WRITES = {"insert", "update", "delete", "bulk_insert", "bulk_insert_chunks", "bulk_insert_values"}
_OUTBOX_TABLE = re.compile(r"^(Notification|Notification\.__table__|N)$")


def module_name(path: Path, root: Path) -> str:
    """fangxun.<dotted path> of a source file under the package root."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["fangxun", *parts])


def package_sources(root: Path) -> dict[str, str]:
    """Every module of the package (tests and the virtualenv left out) with its source text."""
    sources = {}
    for path in sorted(root.rglob("*.py")):
        if SKIPPED.intersection(path.relative_to(root).parts):
            continue
        sources[module_name(path, root)] = path.read_text(encoding="utf-8")
    return sources


def imports_of(source: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import, at the top or inside a function; relative ones as '.'."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append((node.lineno, "." * node.level + (node.module or "")))
            else:
                found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "fangxun" and len(parts) > 1 else None


def forbidden_arrows(sources: dict[str, str]) -> list[str]:
    """Every import that goes against the direction of dependencies, as 'module:line -> target (why)'."""
    problems = []
    for module, source in sources.items():
        room = _room(module)
        pure = module in PURE_MODULES
        for line, target in imports_of(source):
            where = f"{module}:{line} -> {target}"
            if target.startswith("."):
                problems.append(f"{where} (relative import: import fangxun… absolutely)")
                continue
            target_room = _room(target)
            if target_room is not None and target_room != room:
                if target_room in FORBIDDEN_ROOMS.get(room, ()):
                    problems.append(f"{where} ({room} must not depend on {target_room})")
                elif target_room == "demo" and room not in DEMO_USERS:
                    problems.append(f"{where} (only cli and api use the demo)")
            if pure and target.split(".")[0] in IO_LIBRARIES:
                problems.append(f"{where} (a pure rule module imports an I/O library)")
    return problems


def outbox_writes(sources: dict[str, str]) -> list[str]:
    """INSERTs, UPDATEs and DELETEs of the notifications table (or new ORM rows) outside warnings/delivery."""
    problems = []
    for module, source in sources.items():
        if module.startswith(OUTBOX_WRITERS) or module.startswith("fangxun.migrations"):
            continue
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name == "Notification" or (name in _WRITES and any(
                    _OUTBOX_TABLE.match(ast.unparse(argument)) for argument in node.args[:2])):
                problems.append(f"{module}:{node.lineno} {ast.unparse(node)[:80]}")
    return problems


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    """The package's own modules."""
    return package_sources(ROOT)


def test_no_import_goes_against_the_direction_of_dependencies(sources):
    assert len(sources) > 100  # the walk found the package
    assert forbidden_arrows(sources) == []


def test_the_pure_rule_modules_exist(sources):
    assert [name for name in PURE_MODULES if name not in sources] == []


def test_only_delivery_writes_the_outbox(sources):
    assert outbox_writes(sources) == []


@pytest.mark.parametrize(("module", "planted", "why"), [
    ("fangxun.core.db", "from fangxun.plans.models import AdminUnit", "core must not depend on plans"),
    ("fangxun.geo.simplify", "import fangxun.warnings.tables", "geo must not depend on warnings"),
    ("fangxun.plans.coverage", "from fangxun.warnings import tables", "plans must not depend on warnings"),
    ("fangxun.plans.coverage", "from fangxun.settings import Settings", "plans must not depend on settings"),
    ("fangxun.warnings.intake.accept", "from fangxun.api.keys import SETTINGS", "warnings must not depend on api"),
    ("fangxun.report.figures", "from fangxun.cli import main", "report must not depend on cli"),
    ("fangxun.warnings.events.grouping", "from fangxun.demo.registry import load_demo", "must not depend on demo"),
    ("fangxun.settings", "from fangxun.demo.registry import load_demo", "must not depend on demo"),
    ("fangxun.api.app", "from fangxun.demo.registry import load_demo", None),
    ("fangxun.warnings.routing.tree", "from sqlalchemy import select", "pure rule module imports an I/O"),
    ("fangxun.plans.review_clock", "import aiohttp", "pure rule module imports an I/O"),
    ("fangxun.warnings.delivery.channels.text", "from jinja2 import Template", "pure rule module imports an I/O"),
    ("fangxun.warnings.routing.deadlines", "from .tree import route", "relative import"),
    ("fangxun.warnings.intake.accept", "from fangxun.plans.models import AdminUnit", None),
])
def test_a_planted_import_is_caught(sources, module, planted, why):
    # Inside a function too: a lazy import is still an arrow.
    changed = {**sources, module: sources[module] + f"\n\ndef _planted():\n    {planted}\n"}
    problems = sorted(set(forbidden_arrows(changed)) - set(forbidden_arrows(sources)))
    if why is None:  # an allowed arrow, for contrast
        assert problems == []
    else:
        assert len(problems) == 1 and module in problems[0] and why in problems[0], problems


@pytest.mark.parametrize("planted", [
    "session.execute(update(Notification).values(status='cancelled'))",
    "session.execute(update(N).values(status='cancelled'))",
    "bulk_insert(session, Notification.__table__, rows)",
    "session.add(Notification(warning_id=1))",
])
def test_a_planted_outbox_write_is_caught(sources, planted):
    module = "fangxun.warnings.events.decisions"
    changed = {**sources, module: sources[module] + f"\n\nasync def _planted(session, rows):\n    {planted}\n"}
    problems = sorted(set(outbox_writes(changed)) - set(outbox_writes(sources)))
    assert len(problems) == 1 and module in problems[0], problems
