"""Read and write CSV/XLSX tables with Chinese or English headers; import problems and results."""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from itertools import islice
from datetime import date, datetime, time
from pathlib import Path

from fangxun.core.errors import BadInput, ImportRejected

SUFFIXES = (".csv", ".xlsx")
# What the parts of an XLSX may unpack to: a 110,000-row plan sheet is about 60 MB.
XLSX_UNPACKED_MAX = 1 << 30
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
    if type(value) is str:  # most cells, and every cell a second time round
        return value.strip()
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


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) or GB18030, found by decoding the whole file in blocks (nothing kept)."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while block := handle.read(1 << 20):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise BadInput(f"{path.name}：无法识别文件编码，请另存为 UTF-8 或 GB18030 编码的 CSV")


def _csv_records(path: Path) -> Iterator[list]:
    with path.open(encoding=_csv_encoding(path), newline="") as handle:
        yield from csv.reader(handle)


def _check_unpacked_size(path: Path) -> None:
    """Refuse an XLSX whose parts would unpack beyond XLSX_UNPACKED_MAX (a zip bomb), before reading it."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadInput(f"{path.name}：不是有效的 Excel (.xlsx) 文件（{exc}）") from None
    if unpacked > XLSX_UNPACKED_MAX:
        raise BadInput(f"{path.name}：解压后超过 {XLSX_UNPACKED_MAX >> 20} MB，请拆分文件或另存为 CSV")


def _xlsx_records(path: Path) -> Iterator[list]:
    from python_calamine import CalamineError, CalamineWorkbook

    _check_unpacked_size(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.iter_rows()
    except (CalamineError, ValueError, OSError) as exc:
        raise BadInput(f"{path.name}：不是有效的 Excel (.xlsx) 文件（{exc}）") from None
    try:
        # Rows come from the sheet's first row; columns from its first used one, so pad them back to column A
        # for the row and column numbers of problems.
        lead = [""] * (sheet.start[1] if sheet.start else 0)
        for row in rows:
            yield lead + row if lead else row
    except CalamineError as exc:
        raise BadInput(f"{path.name}：Excel 文件内容损坏（{exc}）") from None
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
    return list(iter_table(path, aliases, required, repeated))


def iter_table(path: str | Path, aliases: dict[str, str], required: Iterable[str] = (),
               repeated: dict[str, tuple[str, ...]] | None = None) -> Iterator[tuple[int, dict]]:
    """The rows of a CSV or XLSX file one at a time, as read_table gives them, without holding the file. The
    file and its header are checked at once (BadInput / ImportRejected before any row); a value without a
    column name is refused after the last row (the caller's transaction then undoes whatever it wrote)."""
    path = _check_path(path)
    records = iter(_records(path))
    try:
        keys, titles = _header_keys(records, aliases, required, repeated)
    except BaseException:
        records.close()
        raise
    return _rows(records, keys, titles)


def _header_keys(records: Iterator, aliases: dict[str, str], required: Iterable[str],
                 repeated: dict[str, tuple[str, ...]] | None) -> tuple[list[str | None], list[str]]:
    header = next(records, None)
    if header is None or not any(cell_text(c) for c in header):
        raise reject([Problem(1, None, "文件没有表头行")])
    titles = [cell_text(c) for c in header]
    keys, problems = _map_headers(titles, aliases, required, repeated)
    if problems:
        raise reject(problems)
    return keys, titles


def _rows(records: Iterator, keys: list[str | None], titles: list[str]) -> Iterator[tuple[int, dict]]:
    problems: list[Problem] = []
    blank = {key: "" for key in keys if key}
    with closing(records):
        for number, record in enumerate(records, start=2):
            values = [cell_text(c) for c in record]
            if not any(values):
                continue
            row = dict(blank)
            for index, value in enumerate(values):
                key = keys[index] if index < len(keys) else None
                if "\x00" in value:  # no database column holds it (PostgreSQL refuses it outright)
                    problems.append(Problem(number, titles[index] if key else None, "含有不允许的空字符（NUL）"))
                elif key:
                    row[key] = value
                elif value:
                    problems.append(Problem(number, None, f"第 {index + 1} 列有数据但没有列名"))
            if not problems:
                yield number, row
    if problems:
        raise reject(problems)


def count_records(path: str | Path) -> int | None:
    """About how many rows a CSV file holds (its line count), for a progress bar; None for XLSX."""
    path = Path(path)
    if path.suffix.lower() != ".csv" or not path.is_file():
        return None
    lines = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
    return max(lines - 1, 0)


def _xlsx_value(value: object) -> object:
    # Codes and phones stay text so Excel does not turn them into 4.10102E+11; blanks stay
    # absent cells, which readers skip cheaply.
    if value == "":
        return None
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    return str(value)


def write_table(path: str | Path, headers: list[str], rows: Iterable[list]) -> int:
    """Write `rows` under `headers` as CSV or XLSX, by suffix; returns the row count."""
    with table_writer(path, headers) as writer:
        for row in rows:
            writer.append(row)
    return writer.count


class _TableWriter:
    """Rows appended one at a time to a CSV (UTF-8 with BOM, for Excel) or to an XLSX (xlsx_stream: the sheet is
    streamed to disk, never held)."""

    def __init__(self, path: Path, headers: list[str]):
        self.count = 0
        if path.suffix.lower() == ".csv":
            self._handle = path.open("w", encoding="utf-8-sig", newline="")
            self._csv = csv.writer(self._handle)
            self._csv.writerow(headers)
            self._sheet = None
            return
        from fangxun.plans.xlsx_stream import XlsxStream

        self._sheet = XlsxStream(path)
        self._sheet.append(headers)

    def append(self, row: list) -> None:
        """One more row."""
        if self._sheet is None:
            self._csv.writerow(["" if v is None else v for v in row])
        else:
            self._sheet.append([_xlsx_value(v) for v in row])
        self.count += 1

    def close(self) -> None:
        """Finish the file."""
        if self._sheet is None:
            self._handle.close()
        else:
            self._sheet.close()


@contextmanager
def table_writer(path: str | Path, headers: list[str]) -> Iterator[_TableWriter]:
    """A writer of rows under `headers` into `path` (CSV or XLSX by suffix), written beside it and moved into place
    only when complete: a failure leaves no half-written file."""
    path = _check_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial{path.suffix}")
    writer = _TableWriter(partial, headers)
    try:
        yield writer
        writer.close()
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def progress_bar(items: Iterable, total: int | None, desc: str, enabled: bool) -> Iterable:
    """`items` wrapped in a tqdm bar on stderr when enabled and the job is large (or of unknown size)."""
    if not enabled or (total is not None and total <= PROGRESS_THRESHOLD):
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, desc=desc, unit="行", leave=False)


def batches(items: Iterable, size: int) -> Iterator[list]:
    """`items` in lists of `size` (the last shorter), read as they come."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def chunks(items: list, size: int = 2000) -> Iterator[list]:
    """Consecutive slices of `items`, to keep IN lists under the drivers' parameter limits."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
