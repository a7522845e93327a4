"""Checking the origins and destinations of an access analysis, before any work starts.

Origins (where people live) and destinations (where jobs, schools and clinics are)
are GeoDataFrames with a unique ``id`` column and a CRS, as for
:func:`~transitmile.routing.travel_time_matrix`. An access analysis also reads
their population and opportunity columns, accepts polygons (a census tract, a
hexagon) by taking one representative point inside each, and draws H3 cells as
hexagons in its results.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterable
from dataclasses import fields, replace

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from ..errors import AccessError, RoutingError, show_value
from ..routing import check_points
from ..streets import Snapped, snap_points

__all__ = [
    "AccessWarning",
    "check_layer",
    "check_columns",
    "snap_layer",
    "subset_snapped",
    "result_geometry",
    "analysis_attrs",
    "check_minutes",
]

_AREAS = ("Polygon", "MultiPolygon")


class AccessWarning(UserWarning):
    """An access analysis ran, but on input or a timetable a planner should look at."""


def check_layer(
    points, name: str, columns: Iterable[str | None] = (), *, what: str = "column"
) -> gpd.GeoDataFrame:
    """Validate an origins or destinations layer and the columns an analysis reads.

    Parameters
    ----------
    points : GeoDataFrame
        A unique ``id`` column, a CRS, and Point geometry; Polygons and MultiPolygons
        are replaced by a representative point inside each (with an
        :class:`AccessWarning`).
    name : str
        How the layer is named in messages (``"origins"``, ``"destinations"``).
    columns : iterable of str or None
        Population or opportunity columns that must exist, be numeric and not
        negative (``None`` entries are skipped).
    what : str
        Planner word for these columns in messages.

    Returns
    -------
    GeoDataFrame
        The layer, with point geometry (a copy when polygons were replaced).

    Raises
    ------
    RoutingError
        Not a GeoDataFrame, no ``id`` column, duplicate or missing ids, no CRS,
        geometry that is neither a point nor a polygon.
    AccessError
        A named column is missing, not numeric or negative (missing values are 0,
        with an :class:`AccessWarning`).
    """
    if isinstance(points, gpd.GeoDataFrame) and "id" in points.columns and len(points):
        kinds = points.geometry.geom_type
        areas = kinds.isin(_AREAS).to_numpy()
        if areas.any():
            warnings.warn(
                f"{name}: {int(areas.sum())} of {len(points)} geometries are polygons (e.g. id "
                f"{show_value(points['id'].iloc[int(np.flatnonzero(areas)[0])])}); "
                "using a representative point inside each",
                AccessWarning,
                stacklevel=3,
            )
            points = points.copy()
            geometry = points.geometry.copy()
            geometry[areas] = points.geometry[areas].representative_point()
            points = points.set_geometry(geometry)
    points = check_points(points, name)
    return check_columns(points, [c for c in columns if c is not None], name, what=what)


def check_columns(frame: pd.DataFrame, columns: Iterable[str], name: str, *, what: str):
    """Check that each column exists, is numeric and not negative; missing values become 0.

    Parameters
    ----------
    frame : DataFrame
        The layer (with an ``id`` column, used to name an offending row).
    columns : iterable of str
        Columns to check.
    name : str
        How the layer is named in messages.
    what : str
        Planner word for the columns (``"population column"``).

    Returns
    -------
    DataFrame
        ``frame``, or a copy whose missing values (NaN) in these columns are 0.

    Raises
    ------
    AccessError
        A column is absent, not numeric, or has a negative value.

    Warns
    -----
    AccessWarning
        Missing values counted as 0, naming the column, their count and an id.
    """
    geometry = getattr(frame, "_geometry_column_name", None)
    for column in columns:
        if column not in frame.columns:
            raise AccessError(
                f"{name} has no {what} {column!r}; columns are "
                f"{show_value([c for c in frame.columns if c != geometry])}"
            )
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise AccessError(
                f"{name} {what} {column!r} must be numeric, got dtype {values.dtype} "
                f"(e.g. {show_value(values.iloc[0])})"
            )
        negative = (values < 0).to_numpy()
        if negative.any():
            at = int(np.flatnonzero(negative)[0])
            raise AccessError(
                f"{name} {what} {column!r} must be >= 0 for every row; {_row_name(frame, at)} "
                f"has {show_value(float(values.iloc[at]))} ({int(negative.sum())} negative rows)"
            )
        missing = values.isna().to_numpy()
        if missing.any():
            warnings.warn(
                f"{name} {what} {column!r} has {int(missing.sum())} missing value(s) (e.g. "
                f"{_row_name(frame, int(np.flatnonzero(missing)[0]))}), counted as 0",
                AccessWarning,
                stacklevel=3,
            )
            frame = frame.copy()
            frame[column] = values.fillna(0)
    return frame


def _row_name(frame: pd.DataFrame, at: int) -> str:
    if "id" in frame.columns:
        return f"id {show_value(frame['id'].iloc[at])}"
    return f"row {show_value(frame.index[at])}"


def snap_layer(graph, points: gpd.GeoDataFrame, name: str) -> Snapped:
    """Snap a checked layer to a street graph; error if not one point lies on it.

    Parameters
    ----------
    graph : StreetGraph
        Walk or bike graph of the network.
    points : GeoDataFrame
        A layer checked by :func:`check_layer`.
    name : str
        How the layer is named in messages.

    Returns
    -------
    Snapped
        Points beyond the snap radius are left unsnapped, with the warning of
        :func:`~transitmile.streets.snap_points`.

    Raises
    ------
    RoutingError
        Every point lies outside the street network.
    """
    snapped = snap_points(graph, points)
    if not snapped.snapped.any():
        raise RoutingError(
            f"none of the {len(points)} {name} lies on the {graph.mode} network of "
            f"{graph.source.name} (within the snap radius); e.g. id "
            f"{show_value(points['id'].iloc[0])}: are they inside the OSM extract, in the right CRS?"
        )
    return snapped


def subset_snapped(points: Snapped, rows: np.ndarray) -> Snapped:
    """Take the snapped points at ``rows`` (indices or a mask) as a Snapped of their own.

    Parameters
    ----------
    points : Snapped
        From :func:`~transitmile.streets.snap_points`.
    rows : ndarray
        Integer positions or a boolean mask over ``points``.

    Returns
    -------
    Snapped
        Every per-point array taken at ``rows``; the mode is kept.
    """
    taken = {
        f.name: getattr(points, f.name)[rows]
        for f in fields(points)
        if isinstance(getattr(points, f.name), np.ndarray)
    }
    return replace(points, **taken)


def _h3_cells(ids: pd.Series) -> bool:
    if not (pd.api.types.is_string_dtype(ids) or ids.dtype == object):
        return False
    return all(isinstance(i, str) and h3.is_valid_cell(i) for i in ids)


def result_geometry(points: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Geometry for a result table: H3 hexagons when every id is an H3 cell, else the points.

    Parameters
    ----------
    points : GeoDataFrame
        A checked layer.

    Returns
    -------
    GeoSeries
        Hexagon polygons in EPSG:4326 (from :func:`h3.cell_to_boundary`) when the ids
        are H3 cells; otherwise the layer's own geometry and CRS.
    """
    ids = points["id"]
    if not _h3_cells(ids):
        return points.geometry.reset_index(drop=True)
    rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(cell)] for cell in ids]
    return gpd.GeoSeries([shapely.Polygon(ring) for ring in rings], crs="EPSG:4326")


def analysis_attrs(analysis: str, network, **parameters) -> dict:
    """Provenance of an analysis result, for ``DataFrame.attrs`` and the CLI's sidecar.

    Parameters
    ----------
    analysis : str
        The function's name (``"first_mile"``).
    network : TransportNetwork or None
        Its ``provenance`` (file hashes, date, cache key) is recorded.
    **parameters
        The parameters the result depends on.

    Returns
    -------
    dict
        ``analysis``, the parameters, ``network`` and ``computed_at`` (UTC).
    """
    return {
        "analysis": analysis,
        **parameters,
        "network": None if network is None else network.provenance,
        "computed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def check_minutes(value, name: str, *, scalar: bool = False) -> np.ndarray:
    """Check minutes (cutoffs, bands, thresholds): finite numbers > 0.

    Parameters
    ----------
    value : number or sequence of numbers
        What the user passed.
    name : str
        The parameter's name, for the message.
    scalar : bool
        Require a single number.

    Returns
    -------
    ndarray of float64
        The minutes, in the order given (one value for a scalar).

    Raises
    ------
    AccessError
        Anything else, naming the parameter and showing the value.
    """
    values = np.atleast_1d(np.asarray(value, dtype=object))
    good = (len(values) == 1 or not scalar) and len(values) > 0
    good = good and all(
        isinstance(v, (int, float, np.integer, np.floating))
        and not isinstance(v, bool)
        and np.isfinite(v)
        and v > 0
        for v in values
    )
    if not good:
        what = "a number of minutes > 0" if scalar else "minutes > 0"
        raise AccessError(f"parameter {name!r} must be {what}, got {show_value(value)}")
    return values.astype(np.float64)
