"""Read and write CSV/XLSX tables with Chinese or English headers; import problems and results."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from pathlib import Path

from fangxun.core.errors import BadInput, ImportRejected

SUFFIXES = (".csv", ".xlsx")
PROGRESS_THRESHOLD = 1000


@dataclass
class Problem:
    """One reason a file was refused: its spreadsheet row (header = 1), column and why."""

    row: int | None
    column: str | None
    reason: str

    def as_dict(self) -> dict:
        """Plain data for JSON answers."""
        return asdict(self)

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row is not None else ""
        if self.column:
            where = f"{where} [{self.column}]" if where else f"[{self.column}]"
        return f"{where}：{self.reason}" if where else self.reason


@dataclass
class ImportResult:
    """How many rows an import created, updated and left as they were."""

    created: int
    updated: int
    unchanged: int

    @property
    def changed(self) -> bool:
        """True when the import wrote anything."""
        return bool(self.created or self.updated)

    def as_dict(self) -> dict:
        """Plain counts (the audit record's `after`)."""
        return asdict(self)

    def __str__(self) -> str:
        return f"新增 {self.created} 条，更新 {self.updated} 条，未变 {self.unchanged} 条"


def reject(problems: list[Problem], what: str = "文件") -> ImportRejected:
    """The error refusing a whole import, its detail naming the count and the first problems."""
    shown = "；".join(str(p) for p in problems[:3])
    more = f"；另有 {len(problems) - 3} 处" if len(problems) > 3 else ""
    return ImportRejected(f"{what}有 {len(problems)} 处错误，未导入任何数据：{shown}{more}", problems)


def cell_text(value: object) -> str:
    """A cell as trimmed text: numbers without a spurious .0, datetimes at midnight as dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _header_key(text: str) -> str:
    # Headers typed by hand vary in case, spacing and full-width brackets.
    return (text.strip().casefold().replace("（", "(").replace("）", ")")
            .replace(" ", "").replace("\u3000", ""))


def _check_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise BadInput(f"不支持的文件类型 {path.suffix or '（无扩展名）'}：{path.name}，请使用 .csv 或 .xlsx")
    return path


def _csv_records(path: Path) -> Iterator[list]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise BadInput(f"{path.name}：无法识别文件编码，请另存为 UTF-8 或 GB18030 编码的 CSV") from None
    yield from csv.reader(io.StringIO(text, newline=""))


def _xlsx_records(path: Path) -> Iterator[tuple]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise BadInput(f"{path.name}：不是有效的 Excel (.xlsx) 文件（{exc}）") from None
    try:
        sheet = workbook.worksheets[0]
        # Files written by other tools often carry a wrong <dimension>; read what is really there.
        sheet.reset_dimensions()
        yield from sheet.iter_rows(values_only=True)
    finally:
        workbook.close()


def _records(path: Path) -> Iterator[Iterable]:
    if not path.is_file():
        raise BadInput(f"找不到文件：{path}")
    return _csv_records(path) if path.suffix.lower() == ".csv" else _xlsx_records(path)


def _map_headers(cells: list[str], aliases: dict[str, str], required: Iterable[str],
                 repeated: dict[str, tuple[str, ...]] | None = None) -> tuple[list[str | None], list[Problem]]:
    lookup = {_header_key(key): key for key in aliases.values()}
    lookup.update({_header_key(text): key for text, key in aliases.items()})
    # A header text that may occur more than once (two 电话 columns): its nth occurrence is the nth key.
    repeats = {_header_key(text): list(keys) for text, keys in (repeated or {}).items()}
    keys: list[str | None] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for text in cells:
        if not text:
            keys.append(None)
            continue
        pending = repeats.get(_header_key(text))
        key = pending.pop(0) if pending else lookup.get(_header_key(text))
        if key is None:
            problems.append(Problem(1, text, f"无法识别的列名“{text}”"))
        elif key in seen:
            problems.append(Problem(1, text, f"列“{text}”与列“{seen[key]}”重复"))
            key = None
        else:
            seen[key] = text
        keys.append(key)
    labels = {}
    for text, key in aliases.items():
        if not text.isascii():
            labels.setdefault(key, text)
    for key in required:
        if key not in seen:
            label = labels.get(key, key)
            problems.append(Problem(1, label, f"缺少必需的列“{label}”"))
    return keys, problems


def read_table(path: str | Path, aliases: dict[str, str], required: Iterable[str] = (),
               repeated: dict[str, tuple[str, ...]] | None = None) -> list[tuple[int, dict]]:
    """The rows of a CSV or XLSX file as (row number, {canonical key: text}); header is row 1."""
    path = _check_path(path)
    with closing(iter(_records(path))) as records:
        return _read_records(records, aliases, required, repeated)


def _read_records(records: Iterator, aliases: dict[str, str], required: Iterable[str],
                  repeated: dict[str, tuple[str, ...]] | None = None) -> list[tuple[int, dict]]:
    header = next(records, None)
    if header is None or not any(cell_text(c) for c in header):
        raise reject([Problem(1, None, "文件没有表头行")])
    titles = [cell_text(c) for c in header]
    keys, problems = _map_headers(titles, aliases, required, repeated)
    if problems:
        raise reject(problems)
    rows: list[tuple[int, dict]] = []
    for number, record in enumerate(records, start=2):
        values = [cell_text(c) for c in record]
        if not any(values):
            continue
        row = {key: "" for key in keys if key}
        for index, value in enumerate(values):
            key = keys[index] if index < len(keys) else None
            if "\x00" in value:  # no database column holds it (PostgreSQL refuses it outright)
                problems.append(Problem(number, titles[index] if key else None, "含有不允许的空字符（NUL）"))
            elif key:
                row[key] = value
            elif value:
                problems.append(Problem(number, None, f"第 {index + 1} 列有数据但没有列名"))
        rows.append((number, row))
    if problems:
        raise reject(problems)
    return rows


def _xlsx_value(value: object) -> object:
    # Codes and phones stay text so Excel does not turn them into 4.10102E+11; blanks stay
    # absent cells, which readers skip cheaply.
    if value == "":
        return None
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    return str(value)


def write_table(path: str | Path, headers: list[str], rows: list[list]) -> None:
    """Write `rows` under `headers` as CSV (UTF-8 with BOM, for Excel) or XLSX, by suffix."""
    path = _check_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            writer.writerows(["" if v is None else v for v in row] for row in rows)
        return
    from openpyxl import Workbook

    # A normal (not write-only) workbook records the sheet's dimension, which spares every
    # read-only reader a full extra pass over the sheet.
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
    workbook.save(path)


def progress_bar(items: Iterable, total: int, desc: str, enabled: bool) -> Iterable:
    """`items` wrapped in a tqdm bar on stderr when enabled and the job is large."""
    if not enabled or total <= PROGRESS_THRESHOLD:
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, desc=desc, unit="行", leave=False)


def chunks(items: list, size: int = 2000) -> Iterator[list]:
    """Consecutive slices of `items`, to keep IN lists under the drivers' parameter limits."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
