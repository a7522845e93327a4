"""Open a GTFS zip or folder for partridge; provenance hashes."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import pandas as pd
import partridge as ptg

from ..cache import remove_stale
from ..errors import FeedError, show_value

REQUIRED_FILES = ("stops.txt", "stop_times.txt", "trips.txt", "routes.txt")

_TEMP_PREFIX = "transitmile-gtfs-"


def _check_members(names: Iterable[str], where: str) -> None:
    """Refuse a zip whose member paths are absolute or climb out with ``..``."""
    for name in names:
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or (parts and parts[0].endswith(":")) or ".." in parts:
            raise FeedError(
                f"{where}: zip member {show_value(name)} has an absolute path or '..'; "
                "a GTFS zip holds its files inside the zip"
            )


def _feed_root(names: Iterable[str], where: str) -> str:
    """Find the folder (relative, "" for the top) holding the feed files, else FeedError."""
    folders: dict[str, set[str]] = {}
    for name in names:
        parent, _, base = name.replace("\\", "/").rpartition("/")
        if parent.split("/")[0] == "__MACOSX" or base.startswith("._"):
            continue
        folders.setdefault(parent, set()).add(base)
    # The feed sits where stops.txt is; a zip wrapping it in a sub-folder is common.
    candidates = sorted(
        (len(set(REQUIRED_FILES) & files), -len(folder), folder)
        for folder, files in folders.items()
    )
    best = candidates[-1][2] if candidates else ""
    missing = sorted(set(REQUIRED_FILES) - folders.get(best, set()))
    if missing:
        found = sorted(folders.get(best, set()))
        raise FeedError(
            f"{where}: not a GTFS feed, missing required file(s) {missing}; "
            f"found {show_value(found, 200)}"
        )
    return best


#: What pandas raises (inside partridge) for a file that is not CSV text.
_CSV_ERRORS = (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError)


def _unreadable(folder: Path, where: str) -> FeedError | None:
    """Return a FeedError for the first file of ``folder`` that is not readable CSV, if any."""
    for path in sorted(folder.glob("*.txt")):
        try:
            pd.read_csv(path, dtype=str, index_col=False, encoding="utf-8-sig")
        except pd.errors.EmptyDataError:
            return FeedError(f"{where}: {path.name} is empty, not even a header row")
        except _CSV_ERRORS as exc:
            detail = str(exc).strip().splitlines()[-1]
            return FeedError(f"{where}: {path.name} is not readable CSV text: {detail}")
    return None


@contextmanager
def _csv_errors(folder: Path, where: str) -> Iterator[Path]:
    """Yield ``folder``; a CSV error while it is read becomes a FeedError naming the file."""
    try:
        yield folder
    except _CSV_ERRORS:
        error = _unreadable(folder, where)
        if error is None:  # another feed's file: its own _feed_folder names it
            raise
        raise error from None


@contextmanager
def _feed_folder(path: Path) -> Iterator[Path]:
    """Give a folder partridge can read: the folder itself, or the zip extracted."""
    if path.is_dir():
        names = [p.relative_to(path).as_posix() for p in path.rglob("*.txt")]
        with _csv_errors(path / _feed_root(names, str(path)), str(path)) as folder:
            yield folder
    elif path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            _check_members(archive.namelist(), str(path))
            root = _feed_root(archive.namelist(), str(path))
            # extractions of runs killed before they could clean up, older than a day
            remove_stale(Path(tempfile.gettempdir()), f"{_TEMP_PREFIX}*")
            with tempfile.TemporaryDirectory(prefix=_TEMP_PREFIX) as tmp:
                members = [
                    m for m in archive.namelist() if m.rpartition("/")[0] == root.rstrip("/")
                ]
                archive.extractall(tmp, members=members)
                with _csv_errors(Path(tmp) / root, str(path)) as folder:
                    yield folder
    elif path.exists():
        raise FeedError(f"{str(path)!r} is neither a GTFS zip file nor a folder")
    else:
        raise FeedError(f"GTFS feed {str(path)!r} not found")


def _raw(folder: Path) -> ptg.gtfs.Feed:
    return ptg.load_feed(str(folder), config=ptg.config.empty_config())
