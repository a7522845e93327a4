"""Open a GTFS zip or folder for partridge; provenance hashes."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import partridge as ptg

from ..errors import FeedError, show_value

REQUIRED_FILES = ("stops.txt", "stop_times.txt", "trips.txt", "routes.txt")


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


@contextmanager
def _feed_folder(path: Path) -> Iterator[Path]:
    """Give a folder partridge can read: the folder itself, or the zip extracted."""
    if path.is_dir():
        names = [p.relative_to(path).as_posix() for p in path.rglob("*.txt")]
        yield path / _feed_root(names, str(path))
    elif path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            root = _feed_root(archive.namelist(), str(path))
            with tempfile.TemporaryDirectory(prefix="transitmile-gtfs-") as tmp:
                members = [
                    m for m in archive.namelist() if m.rpartition("/")[0] == root.rstrip("/")
                ]
                archive.extractall(tmp, members=members)
                yield Path(tmp) / root
    elif path.exists():
        raise FeedError(f"{str(path)!r} is neither a GTFS zip file nor a folder")
    else:
        raise FeedError(f"GTFS feed {str(path)!r} not found")


def _raw(folder: Path) -> ptg.gtfs.Feed:
    return ptg.load_feed(str(folder), config=ptg.config.empty_config())
