"""The bureau-wide data files in ../shared/data (read-only, beside the checkout): found, or a clear failure."""

from __future__ import annotations

import os
from pathlib import Path


def shared_data_folders() -> list[Path]:
    """Where shared/data may be: $FANGXUN_SHARED_DATA, then shared/data beside the checkout."""
    folders = []
    if os.environ.get("FANGXUN_SHARED_DATA"):
        folders.append(Path(os.environ["FANGXUN_SHARED_DATA"]))
    folders.append(Path(__file__).resolve().parents[3] / "shared" / "data")
    return folders


def shared_data_file(*parts: str) -> Path:
    """A file under shared/data; FileNotFoundError naming the places looked at."""
    for folder in shared_data_folders():
        if folder.joinpath(*parts).is_file():
            return folder.joinpath(*parts)
    looked = "、".join(str(folder) for folder in shared_data_folders())
    raise FileNotFoundError(f"{'/'.join(parts)} not found in {looked} (set FANGXUN_SHARED_DATA)")
