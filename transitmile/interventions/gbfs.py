"""Read GBFS feeds (the format bike-share and scooter systems publish).

- ``station_information.json``: docked stations (``station_id, name, lat, lon,
  capacity``; in GBFS v3 ``name`` is a list of localized texts);
- ``station_status.json`` (optional, beside it): bikes and docks available now;
- ``geofencing_zones.json``: GeoJSON zones with riding rules (dockless service areas).

Local files are read as they are; a URL is downloaded once into the cache folder
(``settings.cache_dir / "gbfs"``) with pooch, as the data layer caches its files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import shape

from .. import settings
from ..errors import DataError, show_value

__all__ = ["read_stations", "read_service_area"]


def _local(path_or_url: str | os.PathLike) -> Path:
    text = str(path_or_url)
    if text.startswith(("http://", "https://")):
        import pooch

        folder = settings.cache_dir / "gbfs"
        try:
            return Path(pooch.retrieve(text, known_hash=None, path=folder, progressbar=False))
        except Exception as exc:  # requests/pooch errors when offline
            raise DataError(f"GBFS: cannot download {text!r} ({exc}); give a local file") from exc
    path = Path(path_or_url).expanduser()
    if not path.is_file():
        raise DataError(f"GBFS: file {str(path)!r} does not exist")
    return path


def _data(path: Path, key: str) -> list:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"GBFS: cannot read {path.name} as JSON: {exc}") from exc
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict) or key not in data:
        raise DataError(f"GBFS: {path.name} has no data.{key} (is it the right GBFS file?)")
    return data[key]


def _text(value) -> str:
    """Return the text of a GBFS v3 localized string list, or of a v2 plain string."""
    if isinstance(value, list):
        return str(value[0].get("text", "")) if value else ""
    return "" if value is None else str(value)


def read_stations(path_or_url: str | os.PathLike) -> gpd.GeoDataFrame:
    """Docked stations from ``station_information.json`` (GBFS v1-v3).

    Parameters
    ----------
    path_or_url : str or path-like
        The file, or a folder holding it; a URL is fetched into the cache. When a
        ``station_status.json`` lies beside a local file, ``bikes_available`` and
        ``docks_available`` are added.

    Returns
    -------
    GeoDataFrame
        ``id, name, capacity, geometry`` (EPSG:4326), plus the status columns;
        ``attrs["system_id"]`` is the folder's name.

    Raises
    ------
    DataError
        Missing or unreadable file, or not a station_information document.
    """
    path = Path(path_or_url) if not str(path_or_url).startswith("http") else path_or_url
    if isinstance(path, Path) and path.is_dir():
        path = path / "station_information.json"
    path = _local(path)
    rows = _data(path, "stations")
    try:
        frame = pd.DataFrame(
            {
                "id": [str(r["station_id"]) for r in rows],
                "name": [_text(r.get("name")) for r in rows],
                "capacity": [r.get("capacity") for r in rows],
                "lon": [float(r["lon"]) for r in rows],
                "lat": [float(r["lat"]) for r in rows],
            }
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"GBFS: {path.name}: a station lacks station_id/lat/lon ({exc})") from exc
    status = path.with_name("station_status.json")
    if status.is_file():
        state = pd.DataFrame(_data(status, "stations"))
        if "station_id" in state:
            state = state.assign(id=state["station_id"].astype(str))
            keep = {
                "num_bikes_available": "bikes_available",
                "num_docks_available": "docks_available",
            }
            state = state[["id", *[c for c in keep if c in state]]].rename(columns=keep)
            frame = frame.merge(state, on="id", how="left")
    stations = gpd.GeoDataFrame(
        frame.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
        crs="EPSG:4326",
    )
    stations.attrs["system_id"] = path.parent.name
    return stations


def read_service_area(path_or_url: str | os.PathLike) -> shapely.Geometry:
    """Read the area where riding is allowed from GBFS ``geofencing_zones.json``.

    Zones whose rules forbid riding (``ride_allowed: false`` in v2,
    ``ride_start_allowed`` and ``ride_end_allowed`` both false in v3) are taken out
    of the union of the others.

    Parameters
    ----------
    path_or_url : str or path-like

    Returns
    -------
    shapely Polygon or MultiPolygon, lon/lat

    Raises
    ------
    DataError
        Missing file, not a geofencing document, or no zone that allows riding.
    """
    path = _local(path_or_url)
    zones = _data(path, "geofencing_zones")
    features = zones.get("features", []) if isinstance(zones, dict) else []
    allowed, forbidden = [], []
    for feature in features:
        rules = (feature.get("properties") or {}).get("rules") or [{}]
        rule = rules[0]
        if "ride_allowed" in rule:
            ok = bool(rule["ride_allowed"])
        else:
            ok = bool(rule.get("ride_start_allowed", True)) or bool(
                rule.get("ride_end_allowed", True)
            )
        (allowed if ok else forbidden).append(shape(feature["geometry"]))
    if not allowed:
        raise DataError(
            f"GBFS: {path.name} has no zone where riding is allowed ({len(features)} zones); "
            f"e.g. {show_value(features[:1])}"
        )
    area = shapely.union_all(allowed)
    if forbidden:
        area = area.difference(shapely.union_all(forbidden))
    return area
