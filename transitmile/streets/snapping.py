"""Snapping: points (origins, destinations, stops) attached to the nearest street edge.

As R5 (Conveyal) does, each point is snapped onto the nearest *edge* within a radius
(``settings.snap_radius_m``, 1,600 m), and reaches the edge's two ends along it.
:func:`check_points` is the one validation of a points layer, used here and by
:func:`transitmile.travel_time_matrix`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely

from .. import settings
from ..conventions import mode_word
from ..errors import NetworkError, PointsError, RoutingError, show_value
from .graph import StreetGraph

__all__ = ["Snapped", "UnsnappedPointsWarning", "check_points", "snap_points", "require_snapped"]


class UnsnappedPointsWarning(RuntimeWarning):
    """Some points lie farther than the snap radius from the street network."""


@dataclass
class Snapped:
    """Points attached to a street graph, each onto its nearest edge.

    Attributes
    ----------
    ids : ndarray of object
        The points' ids, in input order.
    node_a, node_b : ndarray of int64
        Node indices of the two ends of the nearest edge (its ``u`` and ``v``); -1 if the
        point is not snapped.
    dist_a, dist_b : ndarray of float64
        Metres from the point to ``node_a`` / ``node_b``: snap leg plus the distance along
        the edge (inf if not snapped).
    snap_distance : ndarray of float64
        Metres from the point to the edge (inf if not snapped).
    edge : ndarray of int64
        Row of ``graph.edges`` the point is snapped to, -1 if not snapped.
    offset : ndarray of float64
        Metres along the edge from ``node_a`` to the snapped position (NaN if not snapped).
    mode : str
        Mode of the graph the points were snapped to.
    x, y : ndarray of float64
        The points' coordinates in the graph's CRS, metres.
    """

    ids: np.ndarray
    node_a: np.ndarray
    node_b: np.ndarray
    dist_a: np.ndarray
    dist_b: np.ndarray
    snap_distance: np.ndarray
    edge: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    offset: np.ndarray = field(default_factory=lambda: np.empty(0, np.float64))
    mode: str = ""
    x: np.ndarray = field(default_factory=lambda: np.empty(0, np.float64))
    y: np.ndarray = field(default_factory=lambda: np.empty(0, np.float64))

    @property
    def snapped(self) -> np.ndarray:
        """Boolean mask of the points that were snapped."""
        return self.node_a >= 0

    def __len__(self) -> int:
        """Return the number of points (snapped or not)."""
        return len(self.ids)


def check_points(
    points: object, name: str = "points", *, unique_ids: bool = False, allow_empty: bool = True
) -> gpd.GeoDataFrame:
    """Validate a layer of points (origins, destinations, stops): the one check of them all.

    Parameters
    ----------
    points : GeoDataFrame
        Expected: an ``id`` column, a CRS and non-empty Point geometry.
    name : str
        The layer's name in messages (``"origins"``, ``"destinations"``, ``"points"``).
    unique_ids : bool
        Also refuse repeated ids (a travel time matrix names its rows by id).
    allow_empty : bool
        Accept a layer without rows.

    Returns
    -------
    GeoDataFrame
        ``points``, unchanged.

    Raises
    ------
    PointsError
        Naming the layer, the column or the id at fault and showing the value. It is
        both a :class:`~transitmile.errors.RoutingError` and a
        :class:`~transitmile.errors.NetworkError`, the classes callers caught before.
    """
    if not isinstance(points, gpd.GeoDataFrame):
        raise PointsError(
            f"{name} must be a GeoDataFrame with an 'id' column and point geometry, "
            f"got {type(points).__name__}"
        )
    if "id" not in points.columns:
        raise PointsError(
            f"{name} has no 'id' column; columns are {show_value(list(points.columns))}"
        )
    if len(points) == 0 and not allow_empty:
        raise PointsError(f"{name} is empty")
    if points.crs is None:
        raise PointsError(
            f"{name} has no CRS; set one, e.g. {name}.set_crs('EPSG:4326') for lon/lat"
        )
    missing_id = points["id"].isna().to_numpy()
    if missing_id.any():
        row = points.index[np.flatnonzero(missing_id)[0]]
        raise PointsError(f"{name} column 'id' has missing values, e.g. at row {row!r}")
    duplicated = points["id"][points["id"].duplicated()] if unique_ids else points["id"][:0]
    if len(duplicated):
        raise PointsError(
            f"{name} column 'id' has duplicate values, e.g. {show_value(duplicated.iloc[0])} "
            f"({len(duplicated)} duplicates)"
        )
    geoms = points.geometry.to_numpy()
    is_point = shapely.get_type_id(geoms) == shapely.GeometryType.POINT
    bad = ~is_point | shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if bad.any():
        i = np.flatnonzero(bad)[0]
        kind = "missing" if geoms[i] is None else geoms[i].geom_type
        raise PointsError(
            f"{name} geometry must be non-empty Points; point id "
            f"{show_value(points['id'].iat[i])} has "
            f"{show_value(geoms[i] if geoms[i] is None else geoms[i].wkt)} "
            f"(a {kind}; {int(bad.sum())} such rows)"
        )
    return points


def snap_points(
    graph: StreetGraph, points: gpd.GeoDataFrame, radius_m: float | None = None
) -> Snapped:
    """Attach points to the nearest edge of a street graph, within a radius.

    Parameters
    ----------
    graph : StreetGraph
    points : GeoDataFrame
        An ``id`` column and Point geometry, in any CRS.
    radius_m : float, optional
        Largest snap distance, metres (default ``settings.snap_radius_m``, 1600 m like R5).

    Returns
    -------
    Snapped
        Points farther than ``radius_m`` from every edge are not snapped (node -1,
        distances inf) and will have no travel times.

    Warns
    -----
    UnsnappedPointsWarning
        Naming the first few unsnapped ids and their count.

    Raises
    ------
    NetworkError
        ``points`` is not a GeoDataFrame, lacks a CRS or an ``id`` column, has missing
        ids, or geometry that is not a non-empty Point; ``radius_m`` is not positive.
    """
    radius_m = settings.snap_radius_m if radius_m is None else radius_m
    if not np.isfinite(radius_m) or radius_m <= 0:
        raise NetworkError(f"radius_m must be a positive number of metres, got {radius_m!r}")
    check_points(points)
    ids = points["id"].to_numpy(dtype=object)
    geoms = points.geometry.to_crs(graph.crs).to_numpy()
    n = len(ids)
    edge = np.full(n, -1, np.int64)
    snap = np.full(n, np.inf)
    if n:
        tree = shapely.STRtree(graph.edges.geometry.to_numpy())
        (point_idx, edge_idx), distance = tree.query_nearest(
            geoms, max_distance=radius_m, return_distance=True, all_matches=False
        )
        edge[point_idx] = edge_idx
        snap[point_idx] = distance
    ok = edge >= 0
    lines = graph.edges.geometry.to_numpy()
    offset = np.full(n, np.nan)
    offset[ok] = shapely.line_locate_point(lines[edge[ok]], geoms[ok])
    length = graph.edges["length"].to_numpy()
    # Offsets along the geometry are rescaled to the edge length (they differ only for
    # zero-length pieces stretched to a millimetre).
    geom_len = shapely.length(lines[edge[ok]])
    scale = np.divide(length[edge[ok]], geom_len, out=np.ones_like(geom_len), where=geom_len > 0)
    offset[ok] = np.minimum(offset[ok] * scale, length[edge[ok]])
    node_a = np.full(n, -1, np.int64)
    node_b = np.full(n, -1, np.int64)
    node_a[ok] = graph.edges["u"].to_numpy()[edge[ok]]
    node_b[ok] = graph.edges["v"].to_numpy()[edge[ok]]
    dist_a = np.full(n, np.inf)
    dist_b = np.full(n, np.inf)
    dist_a[ok] = snap[ok] + offset[ok]
    dist_b[ok] = snap[ok] + (length[edge[ok]] - offset[ok])
    if not ok.all():
        _warn_unsnapped(ids[~ok], n, graph.mode, radius_m)
    return Snapped(
        ids,
        node_a,
        node_b,
        dist_a,
        dist_b,
        snap,
        edge,
        offset,
        graph.mode,
        x=shapely.get_x(geoms),
        y=shapely.get_y(geoms),
    )


def _warn_unsnapped(ids: np.ndarray, n: int, mode: str, radius_m: float) -> None:
    """Warn once about the points left unsnapped, naming a few."""
    shown = ", ".join(repr(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
    warnings.warn(
        f"{len(ids)} of {n} points lie more than {radius_m:g} m from the {mode_word(mode)} network "
        f"and get no travel times: ids {shown}",
        UnsnappedPointsWarning,
        stacklevel=3,
    )


def require_snapped(points: Snapped, what: str = "origin") -> None:
    """Raise RoutingError when none of ``points`` could be snapped.

    Parameters
    ----------
    points : Snapped
    what : str
        Planner word for the points in the message ("origin", "destination", "stop").
    """
    if not points.snapped.any():
        raise RoutingError(
            f"no {what} could be snapped to the "
            f"{mode_word(points.mode) if points.mode else 'street'} network "
            f"({len(points)} {what}s, e.g. id {show_value(points.ids[0]) if len(points) else '-'}); "
            "are they inside the OSM extract and in the right CRS?"
        )
