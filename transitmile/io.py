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
import pandas as pd

from .errors import TransitmileError, show_value

__all__ = ["read_points", "write_table", "write_layers", "atomic_path"]


def read_points(path: str | os.PathLike, what: str = "points") -> gpd.GeoDataFrame:
    """Read a point layer: a CSV with ``id, lon, lat`` columns, or a vector file.

    Parameters
    ----------
    path : path
        ``.csv`` (WGS84 lon/lat) or anything :func:`geopandas.read_file` reads
        (GeoPackage, GeoJSON, Shapefile ...).
    what : str
        How the layer is named in error messages (e.g. ``"--origins"``).
    """
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise TransitmileError(f"{what}: file {str(path)!r} does not exist")
    if path.suffix.lower() == ".csv":
        table = pd.read_csv(path)
        missing = [c for c in ("id", "lon", "lat") if c not in table.columns]
        if missing:
            raise TransitmileError(
                f"{what}: {path.name} lacks column(s) {missing}; found {list(table.columns)[:10]}"
            )
        bad = table[~(table["lon"].between(-180, 180) & table["lat"].between(-90, 90))]
        if len(bad):
            row = bad.iloc[0]
            raise TransitmileError(
                f"{what}: {path.name} has a lon/lat outside WGS84 bounds at id "
                f"{show_value(row['id'])}: ({row['lon']}, {row['lat']})"
            )
        geometry = gpd.points_from_xy(table["lon"], table["lat"], crs="EPSG:4326")
        return gpd.GeoDataFrame(table.drop(columns=["lon", "lat"]), geometry=geometry)
    try:
        return gpd.read_file(path)
    except Exception as exc:  # fiona/pyogrio raise many types for unreadable files
        raise TransitmileError(f"{what}: cannot read {path.name} as a vector layer: {exc}") from exc


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


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``frame`` to ``.csv`` or ``.parquet`` atomically, with ``<name>.json`` provenance.

    Returns
    -------
    Path
        The table written.
    """
    target = Path(path).expanduser().resolve()
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise TransitmileError(f"output must end in .csv or .parquet, got {show_value(str(path))}")
    outputs = []
    try:
        tmp = atomic_path(target)
        outputs.append(tmp)
        plain = pd.DataFrame(frame)
        plain.attrs = {}
        if suffix == ".csv":
            plain.to_csv(tmp, index=False)
        else:
            plain.to_parquet(tmp, index=False)
        meta = atomic_path(target.with_name(target.name + ".json"))
        outputs.append(meta)
        meta.write_text(json.dumps(frame.attrs, indent=2, default=str))
        os.replace(meta, target.with_name(target.name + ".json"))
        os.replace(tmp, target)
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
