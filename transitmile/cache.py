"""An on-disk cache that holds data, never code, and is checked on every load.

A cache entry is two files in a cache folder:

- ``<key>.npz``: numpy arrays only, read with ``allow_pickle=False``. Tables are stored
  as Parquet bytes (a ``uint8`` array), geometries as coordinates and offsets (GeoArrow's
  layout), object arrays of text (and None) as fixed-width unicode plus a mask.
- ``<key>.json``: the manifest: the cache format version, the inputs the entry was built
  from (file hashes and settings), the structure of the stored object (which whitelisted
  dataclass holds which array) and the sha256, dtype and shape of every array.

Loading checks all of it: the file owner (the current user), the format version, the
inputs, every array's hash, and the object's class against a whitelist given by the
caller. Any mismatch is one warning and ``None`` (the caller rebuilds), never a crash
and never a wrong answer. Writes go to temporary files moved into place, the manifest
last; concurrent builders serialise on a :class:`filelock.FileLock` per key; temporary
files left by killed runs are removed after a day. A cache folder that cannot be
written means running without a cache, with one warning.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import filelock
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely

__all__ = [
    "CACHE_FORMAT",
    "STALE_AFTER_S",
    "CacheWarning",
    "cache_folder",
    "entry_lock",
    "load_entry",
    "remove_stale",
    "save_entry",
]

log = logging.getLogger("transitmile")

#: Version of the entry layout; an entry with another version is rebuilt.
CACHE_FORMAT = 4  # 4: npz + manifest (1 to 3 were pickles)

#: Temporary files and folders older than this (seconds, one day) are left-overs of
#: killed runs and are removed.
STALE_AFTER_S = 86400.0

_TEMP_SUFFIX = ".tmp"
_MAX_MANIFEST_BYTES = 64 * 2**20
_warned: set[str] = set()


class CacheWarning(UserWarning):
    """The cache could not be used: an entry is rebuilt or the run goes without a cache."""


def _warn_once(text: str) -> None:
    if text not in _warned:
        _warned.add(text)
        warnings.warn(text, CacheWarning, stacklevel=3)


# ------------------------------------------------------------------ folders
def cache_folder(folder: Path) -> Path | None:
    """Create ``folder`` (mode 0700) and return it, or None when it cannot be written.

    Parameters
    ----------
    folder : Path
        The cache folder, e.g. ``settings.cache_dir / "networks"``.

    Returns
    -------
    Path or None
        The folder, ready for entries; None (after one :class:`CacheWarning` per folder
        and process) when it cannot be created or written, so the caller runs uncached.
    """
    try:
        missing = [p for p in (folder, *folder.parents) if not p.exists()]
        for path in reversed(missing):  # every folder created here is private (0700)
            path.mkdir(mode=0o700, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(f"no write permission on {str(folder)!r}")
    except OSError as exc:
        _warn_once(
            f"cache folder {str(folder)!r} cannot be written ({exc}); running without a cache"
        )
        return None
    remove_stale(folder, f"*{_TEMP_SUFFIX}")
    remove_stale(folder, "*.pkl", max_age_s=0.0)  # entries of transitmile <= 0.1: never read
    return folder


def remove_stale(folder: Path, pattern: str, max_age_s: float = STALE_AFTER_S) -> int:
    """Remove this user's files or folders matching ``pattern`` older than ``max_age_s``.

    Parameters
    ----------
    folder : Path
        Where to look (not recursively).
    pattern : str
        Glob pattern, e.g. ``"*.tmp"`` or ``"transitmile-gtfs-*"``.
    max_age_s : float
        Minimum age since the last modification, seconds (default one day).

    Returns
    -------
    int
        How many were removed. Others' files and anything that cannot be removed stay.
    """
    removed = 0
    cutoff = time.time() - max_age_s
    try:
        candidates = list(folder.glob(pattern))
    except OSError:
        return 0
    for path in candidates:
        try:
            info = path.lstat()
            if info.st_uid != os.getuid() or info.st_mtime > cutoff:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed += 1
        except OSError:
            continue
    if removed:
        log.info("removed %d stale temporary file(s) %s in %s", removed, pattern, folder)
    return removed


@contextmanager
def entry_lock(folder: Path, key: str) -> Iterator[None]:
    """Hold the lock of one cache entry, so that concurrent runs build it once.

    Parameters
    ----------
    folder : Path
        The cache folder (from :func:`cache_folder`).
    key : str
        The entry's key.
    """
    lock = filelock.FileLock(str(folder / f"{key}.lock"), mode=0o600)
    try:
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            log.warning("waiting for another transitmile run that is building %s", key)
            lock.acquire()
    except OSError as exc:  # the lock file cannot be made: build unlocked, maybe twice
        _warn_once(f"cannot lock cache entry {key} in {str(folder)!r} ({exc}); not waiting")
        yield
        return
    try:
        yield
    finally:
        lock.release()


# ------------------------------------------------------------------ encoding
def _sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()


def _frame_bytes(frame: pd.DataFrame) -> np.ndarray:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=True)
    return np.frombuffer(buffer.getvalue(), dtype=np.uint8)


def _ragged(frame: gpd.GeoDataFrame) -> bool:
    """Tell whether the geometries store exactly as coordinates and offsets (else WKB)."""
    geometry = frame.geometry.to_numpy()
    if not len(geometry) or shapely.is_missing(geometry).any():
        return False
    kinds = shapely.get_type_id(geometry)
    return bool(
        (kinds == kinds[0]).all()
        and not shapely.is_empty(geometry).any()
        and not shapely.has_z(geometry).any()
    )


class _Encoder:
    """Flattens an object tree into named arrays and a JSON description."""

    def __init__(self, classes: Mapping[str, type]):
        self.classes = classes
        self.arrays: dict[str, np.ndarray] = {}

    def _store(self, array: np.ndarray) -> str:
        name = f"a{len(self.arrays)}"
        self.arrays[name] = np.ascontiguousarray(array)
        return name

    def encode(self, value: Any) -> dict:  # noqa: C901 - one branch per stored kind
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            name = type(value).__qualname__
            if self.classes.get(name) is not type(value):
                raise TypeError(f"class {name} is not in the cache's whitelist")
            return {
                "kind": "dataclass",
                "class": name,
                "fields": {
                    f.name: self.encode(getattr(value, f.name)) for f in dataclasses.fields(value)
                },
            }
        if isinstance(value, gpd.GeoDataFrame) and _ragged(value):
            return self._geoframe(value)
        if isinstance(value, pd.DataFrame):
            dtypes = {str(c): str(t) for c, t in value.dtypes.items()}
            geo = isinstance(value, gpd.GeoDataFrame)
            return {"kind": "frame", "geo": geo, "dtypes": dtypes, "ref": self._array(value)}
        if isinstance(value, np.ndarray):
            return self._ndarray(value)
        if sp.issparse(value):
            csr = sp.csr_matrix(value)
            return {
                "kind": "csr",
                "shape": list(csr.shape),
                "data": self._store(csr.data),
                "indices": self._store(csr.indices),
                "indptr": self._store(csr.indptr),
            }
        if isinstance(value, pyproj.CRS):
            return {"kind": "crs", "wkt": value.to_wkt()}
        if isinstance(value, Path):
            return {"kind": "path", "value": str(value)}
        if isinstance(value, dt.date):
            return {"kind": "date", "value": value.isoformat()}
        if isinstance(value, (list, tuple)):
            kind = "list" if isinstance(value, list) else "tuple"
            return {"kind": kind, "items": [self.encode(v) for v in value]}
        if isinstance(value, np.generic):
            value = value.item()
        if value is None or isinstance(value, (bool, int, float, str, dict)):
            json.dumps(value)  # a dict must be plain JSON (provenance)
            return {"kind": "json", "value": value}
        raise TypeError(f"cannot cache a {type(value).__name__}")

    def _geoframe(self, value: gpd.GeoDataFrame) -> dict:
        """Attributes as Parquet, geometries as GeoArrow-style coordinates and offsets."""
        name = value.geometry.name
        kind, coords, offsets = shapely.to_ragged_array(value.geometry.to_numpy())
        return {
            "kind": "geoframe",
            "columns": [str(c) for c in value.columns],
            "geometry": name,
            "crs": value.crs.to_wkt() if value.crs is not None else None,
            "type": int(kind),
            "coords": self._store(coords),
            "offsets": [self._store(o) for o in offsets],
            "attributes": self.encode(pd.DataFrame(value.drop(columns=name))),
        }

    def _array(self, frame: pd.DataFrame) -> str:
        return self._store(_frame_bytes(frame))

    def _ndarray(self, value: np.ndarray) -> dict:
        if value.dtype != object:
            return {"kind": "array", "ref": self._store(value)}
        missing = np.frompyfunc(lambda v: v is None, 1, 1)(value).astype(bool)
        if not all(type(v) is str for v in value[~missing].ravel()):
            raise TypeError("an object array holds values other than text and None")
        text = np.where(missing, "", value).astype(str)
        node = {"kind": "text", "ref": self._store(text)}
        if missing.any():
            node["none"] = self._store(missing)
        return node


class _Decoder:
    """Rebuilds the object tree from the JSON description and checked arrays."""

    def __init__(self, classes: Mapping[str, type], array: Callable[[str], np.ndarray]):
        self.classes = classes
        self.array = array
        self.crs: dict[str, pyproj.CRS] = {}

    def decode(self, node: dict) -> Any:  # noqa: C901 - one branch per stored kind
        kind = node["kind"]
        if kind == "dataclass":
            cls = self.classes[node["class"]]  # KeyError for a class outside the whitelist
            names = {f.name for f in dataclasses.fields(cls)}
            if set(node["fields"]) != names:
                raise ValueError(f"fields of {node['class']} differ from the code's")
            return cls(**{k: self.decode(v) for k, v in node["fields"].items()})
        if kind == "array":
            return self.array(node["ref"])
        if kind == "text":
            text = self.array(node["ref"]).astype(object)
            if "none" in node:
                text[self.array(node["none"])] = None
            return text
        if kind == "frame":
            frame = self._frame(node["ref"], node["geo"])
            for column, dtype in node["dtypes"].items():
                if str(frame[column].dtype) != dtype and dtype == "object":
                    frame[column] = frame[column].astype(object)
            return frame
        if kind == "geoframe":
            frame = self.decode(node["attributes"])
            geometry = shapely.from_ragged_array(
                shapely.GeometryType(node["type"]),
                self.array(node["coords"]),
                tuple(self.array(o) for o in node["offsets"]) or None,
            )
            frame[node["geometry"]] = geometry
            crs = self._crs(node["crs"]) if node["crs"] else None
            return gpd.GeoDataFrame(frame[node["columns"]], geometry=node["geometry"], crs=crs)
        if kind == "csr":
            parts = (
                self.array(node["data"]),
                self.array(node["indices"]),
                self.array(node["indptr"]),
            )
            return sp.csr_matrix(parts, shape=tuple(node["shape"]))
        if kind == "crs":
            return self._crs(node["wkt"])
        if kind == "path":
            return Path(node["value"])
        if kind == "date":
            return dt.date.fromisoformat(node["value"])
        if kind in ("list", "tuple"):
            items = [self.decode(v) for v in node["items"]]
            return items if kind == "list" else tuple(items)
        if kind == "json":
            return node["value"]
        raise ValueError(f"unknown stored kind {kind!r}")

    def _crs(self, wkt: str) -> pyproj.CRS:
        if wkt not in self.crs:  # parsing a CRS takes tens of ms: once per distinct CRS
            self.crs[wkt] = pyproj.CRS.from_wkt(wkt)
        return self.crs[wkt]

    def _frame(self, ref: str, geo: bool) -> pd.DataFrame:
        data = io.BytesIO(self.array(ref).tobytes())
        return gpd.read_parquet(data) if geo else pd.read_parquet(data)


# ------------------------------------------------------------------ entries
def _paths(folder: Path, key: str) -> tuple[Path, Path]:
    return folder / f"{key}.npz", folder / f"{key}.json"


def _temp(folder: Path, name: str) -> Path:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=_TEMP_SUFFIX)
    os.close(fd)
    return Path(tmp)


def save_entry(
    folder: Path, key: str, value: Any, inputs: dict, classes: Mapping[str, type]
) -> bool:
    """Store ``value`` under ``key``: arrays to ``<key>.npz``, then the manifest.

    Parameters
    ----------
    folder : Path
        The cache folder (from :func:`cache_folder`).
    key : str
        File name stem of the entry.
    value : dataclass instance
        Made of whitelisted dataclasses, numpy arrays, DataFrames, CSR matrices, CRSs,
        paths, dates, lists, tuples and JSON values.
    inputs : dict
        JSON description of what the entry was built from (hashes, settings), checked
        on load.
    classes : mapping of str to type
        The dataclasses allowed in the entry, by ``__qualname__``.

    Returns
    -------
    bool
        True when written; False (after one :class:`CacheWarning`) when the entry could
        not be written, which leaves the run unaffected.
    """
    npz_path, manifest_path = _paths(folder, key)
    temps: list[Path] = []
    try:
        encoder = _Encoder(classes)
        tree = encoder.encode(value)
        manifest = {
            "format": CACHE_FORMAT,
            "inputs": inputs,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "tree": tree,
            "arrays": {
                name: {"sha256": _sha256(a), "dtype": a.dtype.str, "shape": list(a.shape)}
                for name, a in encoder.arrays.items()
            },
        }
        temps = [_temp(folder, npz_path.name), _temp(folder, manifest_path.name)]
        with open(temps[0], "wb") as handle:
            np.savez(handle, allow_pickle=False, **encoder.arrays)
        temps[1].write_text(json.dumps(manifest))
        manifest_path.unlink(missing_ok=True)  # no moment where an old manifest meets new arrays
        os.replace(temps[0], npz_path)
        os.replace(temps[1], manifest_path)
        return True
    except (OSError, TypeError, ValueError) as exc:
        _warn_once(f"cannot write cache entry {str(npz_path)!r} ({exc}); continuing without it")
        return False
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)


def _owned(path: Path) -> bool:
    owner = path.stat().st_uid
    if owner != os.getuid():
        warnings.warn(
            f"ignoring cache file {str(path)!r}: owned by uid {owner}, not by this user "
            f"(uid {os.getuid()}); it will be rebuilt",
            CacheWarning,
            stacklevel=4,
        )
        return False
    return True


def load_entry(
    folder: Path, key: str, inputs: dict, expected: type, classes: Mapping[str, type]
) -> Any | None:
    """Load the entry ``key`` if it is intact, this user's and built from ``inputs``.

    Parameters
    ----------
    folder : Path
        The cache folder.
    key : str
        File name stem of the entry.
    inputs : dict
        What the entry must have been built from (compared with its manifest).
    expected : type
        The class of the stored object.
    classes : mapping of str to type
        The dataclasses allowed in the entry, by ``__qualname__``.

    Returns
    -------
    object or None
        The object; None when there is no entry, or (with one :class:`CacheWarning`)
        when it is not this user's, is of another format, other inputs or another
        class, or any array fails its sha256.
    """
    npz_path, manifest_path = _paths(folder, key)
    if not (npz_path.is_file() and manifest_path.is_file()):
        return None
    try:
        if not (_owned(manifest_path) and _owned(npz_path)):
            return None
        if manifest_path.stat().st_size > _MAX_MANIFEST_BYTES:
            raise ValueError("manifest too large")
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("format") != CACHE_FORMAT:
            raise ValueError(f"format {manifest.get('format')!r}, expected {CACHE_FORMAT}")
        if manifest.get("inputs") != json.loads(json.dumps(inputs)):
            raise ValueError("built from other inputs")
        if manifest["tree"].get("class") != expected.__qualname__:
            raise ValueError(
                f"holds a {manifest['tree'].get('class')!r}, not a {expected.__qualname__}"
            )
        with np.load(npz_path, allow_pickle=False) as stored:
            arrays = manifest["arrays"]
            if set(stored.files) != set(arrays):
                raise ValueError("the arrays stored differ from the manifest's")

            def checked(name: str) -> np.ndarray:
                array = stored[name]
                meta = arrays[name]
                if (
                    array.dtype.str != meta["dtype"]
                    or list(array.shape) != meta["shape"]
                    or _sha256(array) != meta["sha256"]
                ):
                    raise ValueError(f"array {name} fails its sha256 check")
                return array

            value = _Decoder(classes, checked).decode(manifest["tree"])
        if type(value) is not expected:
            raise ValueError(f"holds a {type(value).__name__}")
        return value
    except Exception as exc:  # any damage at all means: rebuild, never trust it
        warnings.warn(
            f"ignoring damaged or foreign cache entry {str(npz_path)!r} ({exc}); rebuilding",
            CacheWarning,
            stacklevel=3,
        )
        return None
