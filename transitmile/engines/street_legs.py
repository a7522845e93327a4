"""The street legs of a request for the embedded engine: access, egress and direct tables.

Per street mode, the request's points are snapped to that mode's graph and one batch
of street searches serves both access (origin x stop) and door-to-door trips (origin x
destination); egress (stop x destination) runs from the destinations' side, or is the
walking access table read the other way when the destinations are the origins. Tables
of several modes, and of the network's access services
(:mod:`transitmile.engines.access`), are combined by keeping the shortest time per pair.

:func:`plan_street_legs` does the part that needs the network's points (snapping) and
gives a :class:`StreetPlan` of numpy arrays; :func:`origin_legs` computes the access and
direct rows of any block of origins from it, so that on a Dask cluster each worker
computes its own blocks' rows (:mod:`transitmile.distributed`). A block's rows are the
same rows as the whole table's: every street search starts from one origin.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import pandas as pd

from .. import settings
from ..conventions import WALK
from ..errors import RoutingError, show_value
from ..sparse import SparseTimes, min_tables, stack_rows
from ..streets import (
    Snapped,
    StreetGraph,
    snap_points,
    street_travel_times,
    street_travel_times_many,
)
from .access import with_access_services, with_direct_services
from .request import TravelTimeRequest

__all__ = [
    "egress_limit_s",
    "street_legs",
    "ModeLegs",
    "StreetPlan",
    "plan_street_legs",
    "origin_legs",
    "egress_legs",
    "nearest_stops",
]


@dataclass
class ModeLegs:
    """One street mode's legs of a request, before any search (picklable, no geometry).

    Attributes
    ----------
    mode : str
        ``"WALK"`` or ``"BICYCLE"``.
    graph : StreetGraph
        The mode's graph; its ``edges`` keep only ``forward`` and ``backward``.
    origins : Snapped
        All the request's origins, snapped to ``graph``.
    stops : Snapped or None
        The network's stops, when the mode is an access or egress mode of a transit
        request.
    access : bool
        The mode is an access mode of a transit request (origin x stop searches).
    destinations : Snapped or None
        The destinations, when the mode is a door-to-door mode.
    egress_to : Snapped or None
        The destinations, when the mode is an egress mode of a transit request.
    egress_from_access : bool
        Egress is this mode's access table read the other way (walking, destinations
        are the origins): it needs every origin's access rows first.
    speed_kmh : float
    limit_s : int
        Longest access or door-to-door leg, seconds.
    egress_limit_s : int
        Longest egress leg, seconds (:func:`egress_limit_s`).
    """

    mode: str
    graph: StreetGraph
    origins: Snapped
    stops: Snapped | None
    access: bool
    destinations: Snapped | None
    egress_to: Snapped | None
    egress_from_access: bool
    speed_kmh: float
    limit_s: int
    egress_limit_s: int


@dataclass
class StreetPlan:
    """The street side of a request after snapping: what any block of origins needs.

    Attributes
    ----------
    modes : list of ModeLegs
        One entry per street mode the request uses, in sorted order.
    n_origins, n_stops, n_destinations : int
        Shapes of the tables (``n_stops`` is ``len(network.stops)``).
    stop_limit : int or None
        ``settings.access_stop_limit`` when the plan was made (workers apply the
        client's value, not their own): each origin's access row and each
        destination's egress column keep that many quickest stops.
    """

    modes: list[ModeLegs]
    n_origins: int
    n_stops: int
    n_destinations: int
    stop_limit: int | None = None

    @property
    def egress_from_access(self) -> bool:
        """Whether the egress table needs every origin's access rows first."""
        return any(m.egress_from_access for m in self.modes)


def plan_street_legs(
    network, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, request: TravelTimeRequest
) -> StreetPlan:
    """Snap the request's points and say which searches each street mode needs.

    Parameters
    ----------
    network : TransportNetwork
        Street graphs and snapped stops.
    origins, destinations : GeoDataFrame
        Validated points (``destinations`` may be ``origins`` itself).
    request : TravelTimeRequest
        Modes, speeds and limits.

    Returns
    -------
    StreetPlan

    Raises
    ------
    RoutingError
        No origin lies within the snap radius of the street network.
    """
    modes = set(request.direct_modes)
    if request.uses_transit:
        modes |= set(request.access_modes) | set(request.egress_modes)
    snapped_o = {m: _snap(network, origins, m) for m in modes}
    same = origins is destinations
    snapped_d = snapped_o if same else {m: _snap(network, destinations, m) for m in modes}
    if not any(s.snapped.any() for s in snapped_o.values()):
        raise RoutingError(
            f"none of the {len(origins)} origins lies within {settings.snap_radius_m:.0f} m of the "
            f"street network of {network.osm_pbf.name}; e.g. id {show_value(origins['id'].iloc[0])}"
            f"{network.swapped_hint(origins)}"
        )
    legs = []
    for mode in sorted(modes):
        access = request.uses_transit and mode in request.access_modes
        egress = request.uses_transit and mode in request.egress_modes
        graph = network.street_graph(mode)
        legs.append(
            ModeLegs(
                mode=mode,
                graph=replace(graph, edges=pd.DataFrame(graph.edges[["forward", "backward"]])),
                origins=snapped_o[mode],
                stops=network.snapped_stops(mode) if access or egress else None,
                access=access,
                destinations=snapped_d[mode] if mode in request.direct_modes else None,
                egress_to=snapped_d[mode] if egress else None,
                egress_from_access=egress and access and same and mode == WALK,
                speed_kmh=request.speed_kmh(mode),
                limit_s=request.leg_limit_s(mode),
                egress_limit_s=egress_limit_s(request, mode) if egress else 0,
            )
        )
    return StreetPlan(legs, len(origins), len(network.stops), len(destinations), _stop_limit())


def origin_legs(
    plan: StreetPlan, start: int, stop: int, progress: bool | None = None, *, direct: bool = True
) -> tuple[SparseTimes | None, SparseTimes, SparseTimes | None]:
    """Access and direct rows of origins ``start:stop`` (without access services).

    Parameters
    ----------
    plan : StreetPlan
        From :func:`plan_street_legs`.
    start, stop : int
        The block of origins (rows of the plan's origins).
    progress : bool, optional
        Progress bars of the street searches.
    direct : bool
        False leaves out the door-to-door times (an empty table): the same searches,
        fewer targets.

    Returns
    -------
    access : SparseTimes or None
        Origin x stop seconds, shortest over the access modes (None without any).
    direct : SparseTimes
        Origin x destination seconds, shortest over the door-to-door modes.
    egress_rows : SparseTimes or None
        With ``plan.egress_from_access``: the walking access rows within the egress
        limit (origin x stop), whose transpose stacked over all blocks is the walking
        egress table (:func:`egress_legs`); else None.
    """
    access, doors, egress_rows = [], [], None
    for legs in plan.modes:
        origins = _rows(legs.origins, start, stop)
        targets = {
            "access": legs.stops if legs.access else None,
            "direct": legs.destinations if direct else None,
        }
        targets = {k: v for k, v in targets.items() if v is not None}
        if not targets:
            continue
        many = street_travel_times_many(
            legs.graph, origins, list(targets.values()), legs.speed_kmh, legs.limit_s,
            progress=progress,
        )  # fmt: skip
        found = dict(zip(targets, many, strict=True))
        if "access" in found:
            access.append(found["access"])
            if legs.egress_from_access:
                egress_rows = found["access"].within(legs.egress_limit_s)
        if "direct" in found:
            doors.append(found["direct"])
    return (
        nearest_stops(min_tables(access, None), plan.stop_limit),
        min_tables(doors, (stop - start, plan.n_destinations)),
        egress_rows,
    )


def egress_legs(
    plan: StreetPlan, egress_rows: list[SparseTimes] | None = None, progress: bool | None = None
) -> SparseTimes | None:
    """Egress table, stop x destination seconds, shortest over the egress modes.

    Parameters
    ----------
    plan : StreetPlan
        From :func:`plan_street_legs`.
    egress_rows : list of SparseTimes, optional
        With ``plan.egress_from_access``: :func:`origin_legs`'s ``egress_rows`` of
        every block, in origin order.
    progress : bool, optional
        Progress bars of the street searches.

    Returns
    -------
    SparseTimes or None
        None if the request has no egress (no transit).
    """
    tables = []
    for legs in plan.modes:
        if legs.egress_from_access:
            tables.append(stack_rows(egress_rows, plan.n_stops).T)
        elif legs.egress_to is not None:
            tables.append(
                street_travel_times(
                    legs.graph, legs.stops, legs.egress_to, legs.speed_kmh, legs.egress_limit_s,
                    progress=progress,
                )
            )  # fmt: skip
    return nearest_stops(min_tables(tables, None), plan.stop_limit, by_destination=True)


def street_legs(
    network,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    request: TravelTimeRequest,
    progress: bool | None = None,
) -> tuple[SparseTimes | None, SparseTimes, SparseTimes | None]:
    """Access, direct and egress tables of a request, in seconds.

    Parameters
    ----------
    network : TransportNetwork
        Street graphs, snapped stops and access services.
    origins, destinations : GeoDataFrame
        Validated points (``destinations`` may be ``origins`` itself: walking egress is
        then the walking access table read the other way).
    request : TravelTimeRequest
        Modes, speeds and limits.
    progress : bool, optional
        Progress bars of the street searches.

    Returns
    -------
    access : SparseTimes or None
        Origin x stop, shortest over the access modes and services (None without transit).
    direct : SparseTimes
        Origin x destination door to door by the street modes of ``transport_modes``
        (empty if none) and, with transit, by the services' whole trips.
    egress : SparseTimes or None
        Stop x destination, shortest over the egress modes and services.

    Raises
    ------
    RoutingError
        No origin lies within the snap radius of the street network.
    """
    plan = plan_street_legs(network, origins, destinations, request)
    access, direct, egress_rows = origin_legs(plan, 0, len(origins), progress)
    egress = egress_legs(plan, [egress_rows], progress)
    if request.uses_transit:
        access, egress = with_access_services(
            network, origins, destinations, request, access, egress
        )
        direct = with_direct_services(network, origins, destinations, request, direct)
        if getattr(network, "access_services", ()):
            # A service may bring nearer stops: keep the quickest again (origin_legs and
            # egress_legs already limited the street tables).
            access = nearest_stops(access, plan.stop_limit)
            egress = nearest_stops(egress, plan.stop_limit, by_destination=True)
    return access, direct, egress


def nearest_stops(
    table: SparseTimes | None, limit: int | None, *, by_destination: bool = False
) -> SparseTimes | None:
    """Keep each point's ``limit`` quickest stops (``settings.access_stop_limit``).

    Parameters
    ----------
    table : SparseTimes or None
        Access (origin x stop) or, with ``by_destination``, egress (stop x destination)
        seconds.
    limit : int or None
        Stops kept per origin or destination; None keeps all.
    by_destination : bool
        Limit each destination's column (egress) instead of each row.

    Returns
    -------
    SparseTimes or None
    """
    if table is None or limit is None:
        return table
    if by_destination:
        by_row = table.T
        kept = by_row.nearest(limit)
        return table if kept is by_row else kept.T
    return table.nearest(limit)


def _stop_limit() -> int | None:
    """Read and check ``settings.access_stop_limit``."""
    limit = settings.access_stop_limit
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise RoutingError(
            f"settings.access_stop_limit must be a whole number of stops >= 1 or None; "
            f"got {show_value(limit)}"
        )
    return limit


def egress_limit_s(request: TravelTimeRequest, mode: str) -> int:
    """Longest egress leg of ``mode`` from the last stop, seconds.

    The request's leg limit (``max_time_walking`` / ``max_time_cycling``, at most
    ``max_time``), capped where R5 stops its egress tables: ``settings.egress_walk_limit_m``
    (R5's ``TransitLayer.WALK_DISTANCE_LIMIT_METERS``, 2,000 m) or
    ``settings.egress_bike_limit_m`` (``EgressCostTable.BICYCLE_DISTANCE_LINKING_LIMIT_METERS``,
    5,000 m) at the request's speed. R5 caps the walk from the stop to the street corners
    and adds the last stretch to the point; transitmile caps the whole leg, so a
    destination at most one street segment beyond the cap is cut here and kept by R5.

    Parameters
    ----------
    request : TravelTimeRequest
        Speeds and limits.
    mode : str
        ``"WALK"`` or ``"BICYCLE"``.

    Returns
    -------
    int
        Seconds.
    """
    limit = request.leg_limit_s(mode)
    cap_m = settings.egress_walk_limit_m if mode == WALK else settings.egress_bike_limit_m
    if cap_m is None:
        return limit
    metres_per_s = request.speed_kmh(mode) / 3.6
    return min(limit, int(round(cap_m / metres_per_s)))


def _snap(network, points: gpd.GeoDataFrame, mode: str) -> Snapped:
    """Points snapped to the street graph of one mode."""
    return snap_points(network.street_graph(mode), points, radius_m=settings.snap_radius_m)


def _rows(points: Snapped, start: int, stop: int) -> Snapped:
    """Points ``start:stop`` of a snapped layer."""
    if start == 0 and stop == len(points):
        return points
    arrays = {
        name: getattr(points, name)[start:stop]
        for name in ("ids", "node_a", "node_b", "dist_a", "dist_b", "snap_distance", "edge",
                     "offset", "x", "y")
    }  # fmt: skip
    return replace(points, **arrays)
