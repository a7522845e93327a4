"""Reading users' point layers and writing results safely.

Results are written to a temporary file next to the target and moved into place,
so an interrupted run never leaves a half-written file behind; the provenance in
``DataFrame.attrs`` goes to a JSON sidecar.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import PointsError, TransitmileError, show_value

__all__ = [
    "read_points",
    "write_table",
    "write_layers",
    "atomic_path",
    "check_output_path",
    "TABLE_SUFFIXES",
]

#: File types :func:`write_table` writes.
TABLE_SUFFIXES = (".csv", ".parquet")


def read_points(path: str | os.PathLike, what: str = "points") -> gpd.GeoDataFrame:
    """Read a point layer: a CSV with ``id, lon, lat`` columns, or a vector file.

    Parameters
    ----------
    path : path
        ``.csv`` (WGS84 lon/lat, ids read as text so that ``00042`` stays ``00042``) or
        anything :func:`geopandas.read_file` reads (GeoPackage, GeoJSON, Shapefile ...).
    what : str
        How the layer is named in error messages (e.g. ``"--origins"``).

    Returns
    -------
    GeoDataFrame
        The points, in EPSG:4326 for a CSV.

    Raises
    ------
    PointsError
        Missing or empty file, unreadable CSV, missing columns, blank ids, text or
        out-of-range values in lon/lat (with a hint when lon and lat look swapped).
    """
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise PointsError(f"{what}: file {str(path)!r} does not exist")
    if path.suffix.lower() == ".csv":
        return _read_csv_points(path, what)
    try:
        return gpd.read_file(path)
    except Exception as exc:  # fiona/pyogrio raise many types for unreadable files
        raise PointsError(f"{what}: cannot read {path.name} as a vector layer: {exc}") from exc


def _read_csv_points(path: Path, what: str) -> gpd.GeoDataFrame:
    try:
        table = pd.read_csv(path, dtype={"id": str})
    except pd.errors.EmptyDataError:
        raise PointsError(
            f"{what}: {path.name} is empty; expected a header 'id,lon,lat' and one row per point"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise PointsError(f"{what}: {path.name} is not readable CSV text: {detail}") from None
    missing = [c for c in ("id", "lon", "lat") if c not in table.columns]
    if missing:
        raise PointsError(
            f"{what}: {path.name} lacks column(s) {missing}; found {list(table.columns)[:10]}"
        )
    if table.empty:
        raise PointsError(f"{what}: {path.name} has a header but no rows (no points)")
    if table["id"].isna().any():
        row = int(np.flatnonzero(table["id"].isna())[0])
        raise PointsError(f"{what}: {path.name} has a blank id in data row {row + 1}")
    for column in ("lon", "lat"):
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna() | ~np.isfinite(values)
        if bad.any():
            row = table[bad].iloc[0]
            raise PointsError(
                f"{what}: {path.name} column {column!r} has a missing or non-numeric value "
                f"{show_value(row[column])} at id {show_value(row['id'])}"
            )
        table[column] = values.astype("float64")
    bad = table[~(table["lon"].between(-180, 180) & table["lat"].between(-90, 90))]
    if len(bad):
        row = bad.iloc[0]
        hint = (
            "; lon and lat look swapped (the lat column holds longitudes)"
            if abs(row["lon"]) <= 90 < abs(row["lat"]) <= 180
            else ""
        )
        raise PointsError(
            f"{what}: {path.name} has a lon/lat outside WGS84 bounds at id "
            f"{show_value(row['id'])}: ({row['lon']}, {row['lat']}){hint}"
        )
    geometry = gpd.points_from_xy(table["lon"], table["lat"], crs="EPSG:4326")
    return gpd.GeoDataFrame(table.drop(columns=["lon", "lat"]), geometry=geometry)


def atomic_path(target: Path):
    """Give a temporary path in the target's folder; the caller moves it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    # mkstemp creates 0600; a result file gets the usual permissions under the umask
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return Path(tmp)


def check_output_path(path: str | os.PathLike, what: str = "output") -> Path:
    """Check that a table can be written at ``path`` (and its sidecar), before any work.

    Parameters
    ----------
    path : path
        The table to write: ``.csv`` or ``.parquet``. Missing parent folders are fine
        (they are created), as long as the nearest existing one is a writable folder.
    what : str
        How the path is named in error messages (e.g. ``"-o/--output"``).

    Returns
    -------
    Path
        The absolute target path.

    Raises
    ------
    TransitmileError
        Another extension, a folder at the path (or at its sidecar's), a file where a
        parent folder should be, or a parent folder this user cannot write.
    """
    target = Path(path).expanduser().resolve()
    if target.suffix.lower() not in TABLE_SUFFIXES:
        raise TransitmileError(
            f"{what}: the output must end in .csv or .parquet, got {show_value(str(path))}"
        )
    for candidate in (target, target.with_name(target.name + ".json")):
        if candidate.is_dir():
            raise TransitmileError(f"{what}: {show_value(str(candidate))} is a folder, not a file")
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise TransitmileError(
            f"{what}: cannot write {show_value(str(path))}: {show_value(str(parent))} is a file, "
            "not a folder"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise TransitmileError(
            f"{what}: cannot write {show_value(str(path))}: no write permission in folder "
            f"{show_value(str(parent))}"
        )
    return target


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``frame`` to ``.csv`` or ``.parquet`` atomically, with ``<name>.json`` provenance.

    The sidecar is moved into place only after the table, so a sidecar always
    describes a table that was written.

    Parameters
    ----------
    frame : DataFrame
        The table; its ``attrs`` go to the JSON sidecar.
    path : path
        Where to write it (see :func:`check_output_path`).

    Returns
    -------
    Path
        The table written.
    """
    target = check_output_path(path)
    sidecar = target.with_name(target.name + ".json")
    outputs = []
    try:
        tmp = atomic_path(target)
        outputs.append(tmp)
        plain = pd.DataFrame(frame)
        plain.attrs = {}
        if target.suffix.lower() == ".csv":
            plain.to_csv(tmp, index=False)
        else:
            plain.to_parquet(tmp, index=False)
        meta = atomic_path(sidecar)
        outputs.append(meta)
        meta.write_text(json.dumps(frame.attrs, indent=2, default=str))
        os.replace(tmp, target)
        os.replace(meta, sidecar)
    finally:
        for leftover in outputs:
            leftover.unlink(missing_ok=True)
    return target


#: Vector formats of :func:`write_layers`, by file extension.
LAYER_FORMATS = {".gpkg": "GPKG", ".parquet": "GeoParquet"}


def _layer_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy a table for a vector file: a named index becomes a column, no attrs."""
    plain = frame.reset_index() if frame.index.name is not None else frame.copy()
    plain.attrs = {}
    for column in plain.columns:
        if plain[column].dtype == object and column != getattr(
            plain, "_geometry_column_name", None
        ):
            plain[column] = plain[column].astype("string")
    return plain


def write_layers(
    layers: dict[str, pd.DataFrame], path: str | os.PathLike, *, provenance: dict | None = None
) -> list[Path]:
    """Write named tables to a GeoPackage or GeoParquet file atomically, with provenance.

    Parameters
    ----------
    layers : dict of str to DataFrame
        Layer name -> table; GeoDataFrames keep their geometry and CRS, plain tables
        are written without geometry.
    path : path
        ``.gpkg``: one GeoPackage with a layer per entry (opens in QGIS).
        ``.parquet``: GeoParquet, the first layer at ``path`` and each other layer
        beside it as ``<stem>.<layer>.parquet``.
    provenance : dict, optional
        Recorded in the sidecar ``<name>.json`` with each layer's ``attrs``.

    Returns
    -------
    list of Path
        The files written (the sidecar last).

    Raises
    ------
    TransitmileError
        Another extension, or no layer.
    """
    target = Path(path).expanduser().resolve()
    suffix = target.suffix.lower()
    if suffix not in LAYER_FORMATS or not layers:
        raise TransitmileError(
            f"output must end in {' or '.join(LAYER_FORMATS)}, got {show_value(str(path))}"
        )
    names = list(layers)
    if suffix == ".gpkg":
        finals = [target]
    else:
        finals = [target] + [target.with_name(f"{target.stem}.{n}.parquet") for n in names[1:]]
    sidecar = target.with_name(target.name + ".json")
    temps: list[Path] = []
    try:
        if suffix == ".gpkg":
            import pyogrio

            placeholder = atomic_path(target)
            placeholder.unlink()  # GDAL creates the GeoPackage itself, named .gpkg
            tmp = placeholder.with_suffix(".gpkg")
            temps.append(tmp)
            for k, name in enumerate(names):
                pyogrio.write_dataframe(
                    _layer_frame(layers[name]), tmp, layer=name, driver="GPKG", append=k > 0
                )
        else:
            for name, final in zip(names, finals, strict=True):
                tmp = atomic_path(final)
                temps.append(tmp)
                _layer_frame(layers[name]).to_parquet(tmp, index=False)
        meta = atomic_path(sidecar)
        temps.append(meta)
        record = {**(provenance or {}), "layers": {n: layers[n].attrs for n in names}}
        meta.write_text(json.dumps(record, indent=2, default=str))
        for tmp, final in zip(temps, [*finals, sidecar], strict=True):
            os.replace(tmp, final)
    finally:
        for leftover in temps:
            leftover.unlink(missing_ok=True)
    return [*finals, sidecar]
