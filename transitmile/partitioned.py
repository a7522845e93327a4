"""A travel time matrix as a folder of Parquet parts, written block by block, never gathered.

Layout of a matrix folder ``ttm/``::

    ttm/part-00000.parquet   rows of origins 0..k-1 (origin-major, as the in-memory frame)
    ttm/part-00001.parquet   ...
    ttm/_provenance.json     how it was made (the frame's ``attrs``)
    ttm/_manifest.json       written LAST: every part, its rows and bytes

Each part is written to a hidden temporary name and renamed into place, by whichever
process routed its origins (a Dask worker, or this process). The manifest is written
only after every part and the provenance are in place, so a folder without a manifest,
or whose parts do not match it, is an unfinished write: :func:`read_travel_time_matrix`
refuses it. pandas, pyarrow and ``dask.dataframe`` read the folder directly (they skip
names starting with ``_`` or ``.``); the parts in name order are the in-memory frame.

``path`` is a local folder or an fsspec URL (``s3://bucket/ttm``, ``gcs://...``); on a
cluster it must be a place every worker can write to.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import DataError, TransitmileError, show_value
from .io import atomic_path

__all__ = [
    "MANIFEST",
    "PROVENANCE",
    "PartWriter",
    "MatrixFolder",
    "read_travel_time_matrix",
]

MANIFEST = "_manifest.json"
PROVENANCE = "_provenance.json"
FORMAT = "transitmile partitioned travel time matrix, version 1"
_PART = re.compile(r"^part-\d{5,}\.parquet$")
_OURS = re.compile(r"^(part-\d{5,}\.parquet|\.part-\d{5,}\.parquet\..*\.tmp|_manifest\.json|_provenance\.json)$")  # fmt: skip


def part_name(number: int) -> str:
    """File name of part ``number`` (zero-padded so that name order is block order)."""
    return f"part-{number:05d}.parquet"


class MatrixFolder:
    """A matrix folder on the local file system or behind an fsspec URL.

    Parameters
    ----------
    path : str or os.PathLike
        A folder, or a URL with a scheme (``s3://...``), which needs fsspec.
    """

    def __init__(self, path: str | os.PathLike):
        text = os.fspath(path)
        self.url = "://" in text
        if self.url:
            try:
                import fsspec
            except ImportError:
                raise TransitmileError(
                    f"output {show_value(text)} is a URL, which needs fsspec: "
                    "pip install 'transitmile[dask]'"
                ) from None
            self.fs, self.root = fsspec.core.url_to_fs(text)
            self.path = text
        else:
            self.fs, self.root = None, str(Path(text).expanduser().resolve())
            self.path = self.root

    def _join(self, name: str) -> str:
        return posixpath.join(self.root, name) if self.url else os.path.join(self.root, name)

    def names(self) -> list[str]:
        """File names in the folder (empty if it does not exist)."""
        if self.url:
            if not self.fs.exists(self.root):
                return []
            return sorted(
                posixpath.basename(p.rstrip("/")) for p in self.fs.ls(self.root, detail=False)
            )
        return sorted(os.listdir(self.root)) if os.path.isdir(self.root) else []

    def size(self, name: str) -> int | None:
        """Bytes of ``name``, or None if it is missing."""
        target = self._join(name)
        if self.url:
            return int(self.fs.size(target)) if self.fs.exists(target) else None
        return os.path.getsize(target) if os.path.isfile(target) else None

    def remove(self, name: str) -> None:
        """Delete ``name`` if present."""
        target = self._join(name)
        if self.url:
            if self.fs.exists(target):
                self.fs.rm(target)
        else:
            Path(target).unlink(missing_ok=True)

    def write_bytes(self, name: str, data: bytes) -> int:
        """Write ``name`` under a hidden temporary name, then rename it into place.

        Returns
        -------
        int
            Bytes written.
        """
        if self.url:
            self.fs.makedirs(self.root, exist_ok=True)
            tmp = self._join(f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
            with self.fs.open(tmp, "wb") as out:
                out.write(data)
            self.fs.mv(tmp, self._join(name))
            return len(data)
        target = Path(self._join(name))
        tmp = atomic_path(target)
        try:
            tmp.write_bytes(data)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return len(data)

    def read_bytes(self, name: str) -> bytes:
        """Contents of ``name``."""
        target = self._join(name)
        if self.url:
            return self.fs.cat_file(target)
        return Path(target).read_bytes()

    def check(self) -> list[str]:
        """Check, before any work, that a matrix may be written here; the names present.

        Returns
        -------
        list of str
            The file names already in the folder (all of them a matrix's).

        Raises
        ------
        TransitmileError
            If the path is a file, or the folder holds files that are not parts of a
            transitmile matrix.
        """
        if not self.url and os.path.isfile(self.root):
            raise TransitmileError(f"output {show_value(self.path)} is a file, not a folder")
        names = self.names()
        foreign = [n for n in names if not _OURS.match(n)]
        if foreign:
            raise TransitmileError(
                f"output folder {show_value(self.path)} holds files that are not parts of a "
                f"travel time matrix, e.g. {show_value(foreign[0])}; choose a new or empty folder"
            )
        return names

    def prepare(self) -> None:
        """Make the folder ready for a new matrix: no manifest first, then no old parts.

        Raises
        ------
        TransitmileError
            As :meth:`check`.
        """
        names = self.check()
        if MANIFEST in names:  # an old complete matrix stops being complete before it changes
            self.remove(MANIFEST)
        for name in names:
            if name != MANIFEST:
                self.remove(name)
        if not self.url:
            os.makedirs(self.root, exist_ok=True)

    def finish(self, parts: list[dict], provenance: dict) -> dict:
        """Write the provenance, then the manifest (last: it marks the matrix complete).

        Parameters
        ----------
        parts : list of dict
            What :class:`PartWriter` returned for each part.
        provenance : dict
            The frame's ``attrs``.

        Returns
        -------
        dict
            The manifest.
        """
        parts = sorted(parts, key=lambda p: p["number"])
        columns = parts[0]["columns"] if parts else []
        parts = [{k: v for k, v in p.items() if k != "columns"} for p in parts]
        self.write_bytes(PROVENANCE, _json(provenance))
        manifest = {
            "format": FORMAT,
            "complete": True,
            "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "columns": columns,
            "n_rows": sum(p["rows"] for p in parts),
            "n_bytes": sum(p["bytes"] for p in parts),
            "parts": parts,
        }
        self.write_bytes(MANIFEST, _json(manifest))
        return manifest


def _json(value: dict) -> bytes:
    return json.dumps(value, indent=2, default=str).encode()


@dataclass
class PartWriter:
    """Turns one block's result into rows of the matrix and writes them as one part.

    Picklable (plain arrays and strings): on a cluster it is shipped once per worker
    and runs there, so rows never travel back to the client.

    Attributes
    ----------
    path : str
        The matrix folder or URL.
    origin_ids, destination_ids : pandas.DataFrame
        One ``id`` column each, in routing order.
    percentiles : tuple of int
    breakdown : bool
        Whether results carry the split of the median trip.
    """

    path: str
    origin_ids: pd.DataFrame
    destination_ids: pd.DataFrame
    percentiles: tuple[int, ...]
    breakdown: bool = False

    def __call__(self, block, result) -> dict:
        """Write ``block``'s rows from :func:`~transitmile.engines.embedded.run_chunk`'s result.

        Returns
        -------
        dict
            ``number``, ``file``, ``rows``, ``bytes`` of the part written.
        """
        from .engines.embedded import breakdown_minutes

        minutes, parts_s, _ = result
        parts = breakdown_minutes(parts_s) if self.breakdown else None
        return self.write_rows(block.number, block.start, block.stop, minutes, parts)

    def write_all(self, minutes, parts, chunk_size: int) -> list[dict]:
        """Write a whole matrix computed here, ``chunk_size`` origins per part.

        Parameters
        ----------
        minutes : numpy.ndarray
            float64 ``[n_origins, n_destinations, n_percentiles]``.
        parts : dict of str to numpy.ndarray, or None
            The breakdown, minutes, ``[n_origins, n_destinations]`` per part.
        chunk_size : int
            Origins per part.

        Returns
        -------
        list of dict
            One entry per part, as :meth:`write_rows`.
        """
        written = []
        for number, start in enumerate(range(0, len(minutes), chunk_size)):
            rows = slice(start, start + chunk_size)
            block = None if parts is None else {k: v[rows] for k, v in parts.items()}
            stop = min(start + chunk_size, len(minutes))
            written.append(self.write_rows(number, start, stop, minutes[rows], block))
        return written

    def write_rows(self, number: int, start: int, stop: int, minutes, parts) -> dict:
        """Write the rows of origins ``start:stop`` as part ``number``.

        Parameters
        ----------
        number : int
            Part number.
        start, stop : int
            Origin rows.
        minutes : numpy.ndarray
            float64 ``[stop - start, n_destinations, n_percentiles]``.
        parts : dict of str to numpy.ndarray, or None
            The breakdown, minutes, ``[stop - start, n_destinations]`` per part.

        Returns
        -------
        dict
            ``number``, ``file``, ``rows``, ``bytes``.
        """
        from .engines.frame import result_frame

        frame = result_frame(
            self.origin_ids.iloc[start:stop], self.destination_ids, minutes, self.percentiles, parts
        )
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        name = part_name(number)
        size = MatrixFolder(self.path).write_bytes(name, buffer.getvalue())
        return {
            "number": int(number),
            "file": name,
            "origins": [int(start), int(stop)],
            "rows": len(frame),
            "bytes": size,
            "columns": list(frame.columns),
        }


def read_travel_time_matrix(path: str | os.PathLike) -> pd.DataFrame:
    """Read a matrix folder written by ``write_travel_time_matrix`` into one frame.

    Parameters
    ----------
    path : str or os.PathLike
        The folder (or fsspec URL).

    Returns
    -------
    pandas.DataFrame
        The frame ``travel_time_matrix`` would have returned, with its ``attrs``.

    Raises
    ------
    DataError
        If the folder has no manifest (the write did not finish) or a part is missing
        or differs from the manifest.
    """
    folder = MatrixFolder(path)
    manifest = read_manifest(folder)
    frames = [pd.read_parquet(io.BytesIO(folder.read_bytes(p["file"]))) for p in manifest["parts"]]
    frame = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=manifest["columns"])
    )
    frame.attrs = json.loads(folder.read_bytes(PROVENANCE))
    return frame


def read_manifest(folder: MatrixFolder) -> dict:
    """Read the manifest of a complete matrix folder, checked against the parts present.

    Parameters
    ----------
    folder : MatrixFolder

    Returns
    -------
    dict

    Raises
    ------
    DataError
        If the folder is not a complete matrix.
    """
    if folder.size(MANIFEST) is None:
        raise DataError(
            f"{show_value(folder.path)} has no {MANIFEST}: its write did not finish (or it is "
            "not a transitmile matrix folder); write it again"
        )
    manifest = json.loads(folder.read_bytes(MANIFEST))
    for part in manifest["parts"]:
        size = folder.size(part["file"])
        if size != part["bytes"]:
            raise DataError(
                f"{show_value(folder.path)}: part {part['file']} has {size} bytes, the manifest "
                f"says {part['bytes']}; the folder was changed after it was written"
            )
    extra = [n for n in folder.names() if _PART.match(n)]
    listed = {p["file"] for p in manifest["parts"]}
    stray = sorted(set(extra) - listed)
    if stray:
        raise DataError(
            f"{show_value(folder.path)}: part {stray[0]} is not in the manifest; the folder "
            "was changed after it was written"
        )
    return manifest
