"""Generated files for the province-scale benches: the 河北 unit list (../shared/data) with two plans per unit
(防汛应急预案, 紧急避险安置预案) and their 责任人 and 副责任人, as CSV and XLSX. Nothing generated is shipped.
Run: .venv/bin/python tests/bench/scale_data.py FOLDER   (writes hebei_plans.csv and hebei_plans.xlsx)
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support

from support.registry_factories import PLAN_LABEL_HEADERS  # noqa: E402
from support.shared_data import shared_data_file  # noqa: E402

KINDS = (("防汛应急预案", "防汛应急预案"), ("紧急避险安置预案", "紧急避险安置预案"))
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "建国红伟芳娜秀英敏静丽强磊军洋勇艳杰涛明超秀兰霞平刚"


def province_units() -> list[tuple[str, str, str]]:
    """(code, name, level) of every unit of the 河北 list."""
    with shared_data_file("divisions", "hebei_nbs_2023_codes.csv").open(encoding="utf-8") as handle:
        return [(row["code"], row["name"], row["level"]) for row in csv.DictReader(handle)]


def _person(rng: random.Random) -> tuple[str, str]:
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return name, f"13{rng.randrange(10**9):09d}"


def plan_rows(units: list[tuple[str, str, str]], seed: int = 7) -> list[list[str]]:
    """Two plans per unit, approved over the last three years, with a 责任人 and a 副责任人 each."""
    rng = random.Random(seed)
    start = date(2023, 1, 1)
    rows = []
    for code, name, _ in units:
        for kind, title in KINDS:
            approved = start + timedelta(days=rng.randrange(1000))
            (lead, lead_phone), (deputy, deputy_phone) = _person(rng), _person(rng)
            rows.append([code, kind, f"{name}{title}", f"{name}人民政府", approved.isoformat(), "", "36", "1.0",
                         "有效", lead, lead_phone, deputy, deputy_phone])
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    """The plan rows under the Chinese headers, as CSV."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PLAN_LABEL_HEADERS)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    """The plan rows under the Chinese headers, as XLSX (written in openpyxl's streaming mode)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("预案")
    sheet.append(PLAN_LABEL_HEADERS)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    rows = plan_rows(province_units())
    print(write_csv(folder / "hebei_plans.csv", rows), write_xlsx(folder / "hebei_plans.xlsx", rows), len(rows))
