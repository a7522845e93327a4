"""Access services: extra ways to and from stops (bike-share, microtransit, scooters).

An access service gives, between two sets of places (points and stops), the
seconds of its own leg. The embedded engine reads three tables from it (access:
points x stops, egress: stops x points, direct: points x points; the contract of
:class:`transitmile.engines.access.AccessService`) and keeps, per pair, the
minimum of walking and every service. The pure computations
(:func:`bike_share_seconds`, :func:`on_demand_seconds`) work on arrays so that
they can be checked by hand.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np

from .. import settings
from ..engines.access import AccessService
from ..engines.tables import SparseTimes, sparse_times_from_dense
from ..streets import UnsnappedPointsWarning, snap_points, street_travel_times

__all__ = ["AccessLegs", "bike_share_seconds", "on_demand_seconds", "street_seconds"]


def bike_share_seconds(
    walk_to_station_s: np.ndarray,
    ride_s: np.ndarray,
    walk_from_station_s: np.ndarray,
    unlock_s: float,
    dock_s: float,
) -> np.ndarray:
    """Seconds of a docked bike-share trip: walk, unlock, ride, dock, walk on.

    Parameters
    ----------
    walk_to_station_s : ndarray, shape (n_from, n_stations)
        Walking seconds from each place to each station (inf where too far).
    ride_s : ndarray, shape (n_stations, n_stations)
        Cycling seconds between stations on the bike network (inf where too far).
        A ride from a station back to itself is never useful and is ignored.
    walk_from_station_s : ndarray, shape (n_stations, n_to)
        Walking seconds from each station to each place.
    unlock_s, dock_s : float
        Seconds to take a bike out and to return it.

    Returns
    -------
    ndarray, shape (n_from, n_to)
        ``min over stations a, b (a != b) of walk[from, a] + unlock + ride[a, b] + dock
        + walk[b, to]``, seconds; inf where no ride connects the pair.
    """
    walk_in = np.asarray(walk_to_station_s, dtype=np.float64)
    ride = np.array(ride_s, dtype=np.float64)
    walk_out = np.asarray(walk_from_station_s, dtype=np.float64)
    np.fill_diagonal(ride, np.inf)
    # to the dock: min over pick-up stations a of walk[from, a] + ride[a, b]
    to_dock = np.min(walk_in[:, :, None] + ride[None, :, :], axis=1, initial=np.inf)
    best = np.full((walk_in.shape[0], walk_out.shape[1]), np.inf)
    for b in range(ride.shape[0]):  # stations are few: one (n_from x n_to) pass each
        np.minimum(best, to_dock[:, b, None] + walk_out[b][None, :], out=best)
    return best + unlock_s + dock_s


def on_demand_seconds(
    distance_m: np.ndarray, wait_s: float, speed_kmh: float, detour_factor: float
) -> np.ndarray:
    """Seconds of an on-demand (microtransit) leg: ``wait + distance x detour / speed``.

    Parameters
    ----------
    distance_m : ndarray
        Straight-line distances, metres (inf where the service does not run).
    wait_s : float
        Pick-up wait, seconds (R5 and Conveyal model on-demand service by a wait).
    speed_kmh : float
        Vehicle speed, km/h.
    detour_factor : float
        Road distance over straight-line distance, including detours to pick up others.

    Returns
    -------
    ndarray
        Seconds, same shape as ``distance_m``.
    """
    return wait_s + np.asarray(distance_m, dtype=np.float64) * detour_factor / (speed_kmh / 3.6)


def street_seconds(
    graph, from_points, to_points, speed_kmh: float, max_time_s: float
) -> np.ndarray:
    """Dense street seconds between two snapped point sets (inf beyond ``max_time_s``)."""
    return street_travel_times(graph, from_points, to_points, speed_kmh, max_time_s).to_dense()


def snapped(network, places: gpd.GeoDataFrame, mode: str):
    """Places snapped to the network's walk or bike graph (stops reuse the network's snap)."""
    if places is network.stops:
        return network.snapped_stops(mode)
    with warnings.catch_warnings():  # callers report what is beyond the network themselves
        warnings.simplefilter("ignore", UnsnappedPointsWarning)
        return snap_points(network.street_graph(mode), places, radius_m=settings.snap_radius_m)


class AccessLegs(AccessService):
    """An intervention the embedded engine routes as access and egress legs.

    Implements :class:`transitmile.engines.access.AccessService` from one method,
    :meth:`seconds_between`, which gives the service's seconds between any two
    sets of places (points or the network's stops): access, egress and whole trips.
    """

    def seconds_between(
        self, network, from_places: gpd.GeoDataFrame, to_places: gpd.GeoDataFrame, request
    ) -> np.ndarray:
        """Return the seconds of this service's leg between places (inf: not served).

        Parameters
        ----------
        network : TransportNetwork
        from_places, to_places : GeoDataFrame
            Points with ``id`` (``network.stops`` for stops).
        request : TravelTimeRequest
            Walking and cycling speeds and limits.

        Returns
        -------
        ndarray, shape (len(from_places), len(to_places))
        """
        raise NotImplementedError

    def _table(self, seconds: np.ndarray, request) -> SparseTimes:
        return sparse_times_from_dense(seconds, max_s=request.max_time_s - 1)

    def access_times(self, network, origins: gpd.GeoDataFrame, request) -> SparseTimes:
        """Return origins x stops seconds (the first mile by this service)."""
        return self._table(self.seconds_between(network, origins, network.stops, request), request)

    def egress_times(self, network, destinations: gpd.GeoDataFrame, request) -> SparseTimes:
        """Return stops x destinations seconds (the last mile by this service)."""
        return self._table(
            self.seconds_between(network, network.stops, destinations, request), request
        )

    def direct_times(
        self, network, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, request
    ) -> SparseTimes:
        """Return origins x destinations seconds (whole trips by this service)."""
        return self._table(self.seconds_between(network, origins, destinations, request), request)
