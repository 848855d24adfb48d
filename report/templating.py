"""The Jinja2 environments of the HTML this service renders: the report's here, the pages' in api/templating.py.

Templates live in a package's templates/ folder (shipped as package data), are autoescaped (.html, .svg) and
strict about missing values. They are written one element a line; a line break and the indentation after it
are dropped where they touch a tag, so a page comes out as the same compact HTML it always was: indentation
is layout, never text."""

from __future__ import annotations

import re
from collections.abc import Callable

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape
from jinja2.ext import Extension

_LAYOUT = re.compile(r"(?<=[>}])\n\s*|\n\s*(?=[<{])")


class Compact(Extension):
    """Drops the line breaks of a template's layout (beside a tag or a template tag) as it is loaded."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return _LAYOUT.sub("", source)


def number(value: float) -> str:
    """A count or a figure as short as it goes: 3, 2.5, 1e+06."""
    return format(value, "g")


def decimal(value: float) -> str:
    """A coordinate to a tenth: 12.0."""
    return f"{value:.1f}"


def environment(*packages: str, filters: dict[str, Callable] | None = None) -> Environment:
    """Templates of the first package that has the name (then the next: the pages reuse the report's
    document.html); the number filters and `filters`."""
    env = Environment(loader=ChoiceLoader([PackageLoader(package, "templates") for package in packages]),
                      autoescape=select_autoescape(["html", "svg"]), undefined=StrictUndefined,
                      extensions=[Compact], auto_reload=False)
    env.filters.update(number=number, decimal=decimal, **(filters or {}))
    return env


ENVIRONMENT = environment("fangxun.report")


def render(name: str, **context) -> str:
    """The report template `name` filled in with `context`."""
    return ENVIRONMENT.get_template(name).render(**context)
