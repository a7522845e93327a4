"""The street legs of a request for the embedded engine: access, egress and direct tables.

Per street mode, the request's points are snapped to that mode's graph and one batch
of street searches serves both access (origin x stop) and door-to-door trips (origin x
destination); egress (stop x destination) runs from the destinations' side. Tables of
several modes, and of the network's access services
(:mod:`transitmile.engines.access`), are combined by keeping the shortest time per pair.
"""

from __future__ import annotations

import geopandas as gpd

from .. import settings
from ..conventions import WALK
from ..errors import RoutingError, show_value
from ..sparse import SparseTimes, min_tables
from ..streets import Snapped, snap_points, street_travel_times, street_travel_times_many
from .access import with_access_services, with_direct_services
from .request import TravelTimeRequest

__all__ = ["egress_limit_s", "street_legs"]


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
    modes = set(request.direct_modes)
    if request.uses_transit:
        modes |= set(request.access_modes) | set(request.egress_modes)
    snapped_o = {m: _snap(network, origins, m) for m in modes}
    same_points = origins is destinations
    snapped_d = snapped_o if same_points else {m: _snap(network, destinations, m) for m in modes}
    if not any(s.snapped.any() for s in snapped_o.values()):
        raise RoutingError(
            f"none of the {len(origins)} origins lies within {settings.snap_radius_m:.0f} m of the "
            f"street network of {network.osm_pbf.name}; e.g. id {show_value(origins['id'].iloc[0])}"
            f"{network.swapped_hint(origins)}"
        )
    tables: dict[str, list[SparseTimes]] = {"access": [], "direct": [], "egress": []}
    for mode in sorted(modes):
        for name, table in _mode_tables(
            network, request, mode, snapped_o[mode], snapped_d[mode], same_points, progress
        ):
            tables[name].append(table)
    access = min_tables(tables["access"], None)
    egress = min_tables(tables["egress"], None)
    if request.uses_transit:
        access, egress = with_access_services(
            network, origins, destinations, request, access, egress
        )
    direct = min_tables(tables["direct"], (len(origins), len(destinations)))
    if request.uses_transit:
        direct = with_direct_services(network, origins, destinations, request, direct)
    return access, direct, egress


def _mode_tables(network, request, mode, origins: Snapped, destinations: Snapped, same, progress):
    """``(name, table)`` pairs of one street mode: access, direct, egress as the request uses."""
    graph, stops = network.street_graph(mode), network.snapped_stops(mode)
    speed, limit = request.speed_kmh(mode), request.leg_limit_s(mode)
    targets = {}
    if request.uses_transit and mode in request.access_modes:
        targets["access"] = stops
    if mode in request.direct_modes:
        targets["direct"] = destinations
    found = {}
    if targets:
        many = street_travel_times_many(
            graph, origins, list(targets.values()), speed, limit, progress=progress
        )
        found = dict(zip(targets, many, strict=True))
    out = list(found.items())
    if request.uses_transit and mode in request.egress_modes:
        egress_limit = egress_limit_s(request, mode)
        if mode == WALK and same and "access" in found:
            out.append(("egress", found["access"].T.within(egress_limit)))
        else:
            egress = street_travel_times(
                graph, stops, destinations, speed, egress_limit, progress=progress
            )
            out.append(("egress", egress))
    return out


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
