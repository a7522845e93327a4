"""Access services: the typed hook through which interventions add first/last-mile legs.

A bike-share, a microtransit zone or a scooter fleet changes how people reach transit
stops, not the timetable. Such a service is an :class:`AccessService`: given the
network and the points of a request, it returns how many seconds each point needs to
reach each stop (access) and each stop needs to reach each point (egress). The
embedded engine combines those tables with the street access and egress tables,
keeping the shortest time per (point, stop) pair, and routes transit as usual.

A service is attached to a network (``TransportNetwork(..., access_services=[...])``)
and applies to every request on it that uses transit, whatever its
``access_modes`` / ``egress_modes``. R5 has no equivalent: the r5py engine refuses a
network that carries access services (``engine="auto"`` then uses the embedded engine).

Implementations arrive with the interventions issue (``transitmile/interventions/``);
the contract is described in docs/design.md ("Access services").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import geopandas as gpd

from ..errors import NetworkError, show_value
from ..sparse import SparseTimes, min_tables
from .request import TravelTimeRequest
from .tables import check_sparse_times

if TYPE_CHECKING:  # the network module imports this one
    from ..network import TransportNetwork

__all__ = [
    "AccessService",
    "check_access_services",
    "with_access_services",
    "with_direct_services",
]


class AccessService(ABC):
    """A first/last-mile service the embedded engine routes to and from transit stops.

    Subclasses set :attr:`name` and implement :meth:`access_times` and
    :meth:`egress_times`. Both return a :class:`~transitmile.sparse.SparseTimes` of whole
    seconds, door to stop (or stop to door), *all included*: the walk to a dock or a
    pick-up point, waiting, unlocking, riding, docking. A pair that is absent is not
    served; the engine keeps, per pair, the shorter of the service's time and the
    street time of the request's access (egress) modes. A service that offers no
    access (or no egress) leg returns None.

    Stops are the network's stops, in the order of ``network.stops`` (the columns of
    access, the rows of egress). Points are the request's origins (destinations) in the
    caller's order. Times should respect ``request.max_time_s``; longer ones are
    never used. Implementations must be deterministic for a given network and request
    (results are compared and cached by the callers).

    Attributes
    ----------
    name : str
        Short name shown in messages and run records, e.g. ``"bike-share (Bike POA)"``.
    """

    name: str = "access service"

    @abstractmethod
    def access_times(
        self, network: TransportNetwork, origins: gpd.GeoDataFrame, request: TravelTimeRequest
    ) -> SparseTimes | None:
        """Seconds from each origin to each stop by this service.

        Parameters
        ----------
        network : TransportNetwork
            The network routed on (stops, street graphs, service date).
        origins : GeoDataFrame
            The request's origins, validated (``id`` column, CRS, Points).
        request : TravelTimeRequest
            Speeds, limits and departure of the request.

        Returns
        -------
        SparseTimes or None
            Shape ``(len(origins), len(network.stops))``; None if the service offers
            no access leg.
        """

    @abstractmethod
    def egress_times(
        self,
        network: TransportNetwork,
        destinations: gpd.GeoDataFrame,
        request: TravelTimeRequest,
    ) -> SparseTimes | None:
        """Seconds from each stop to each destination by this service.

        Parameters
        ----------
        network : TransportNetwork
            The network routed on.
        destinations : GeoDataFrame
            The request's destinations, validated.
        request : TravelTimeRequest
            Speeds, limits and departure of the request.

        Returns
        -------
        SparseTimes or None
            Shape ``(len(network.stops), len(destinations))``; None if the service
            offers no egress leg.
        """

    def direct_times(
        self,
        network: TransportNetwork,
        origins: gpd.GeoDataFrame,
        destinations: gpd.GeoDataFrame,
        request: TravelTimeRequest,
    ) -> SparseTimes | None:
        """Seconds from each origin to each destination by this service alone (whole trips).

        Parameters
        ----------
        network : TransportNetwork
            The network routed on.
        origins, destinations : GeoDataFrame
            The request's points, validated.
        request : TravelTimeRequest
            Speeds, limits and departure of the request.

        Returns
        -------
        SparseTimes or None
            Shape ``(len(origins), len(destinations))``; None (the default) if the
            service offers no door-to-door trips.
        """
        return None

    def __repr__(self) -> str:
        """Class and name, e.g. ``BikeShare('bike-share')``."""
        return f"{type(self).__name__}({self.name!r})"


def check_access_services(services: object) -> list[AccessService]:
    """Validate the ``access_services`` argument of a network.

    Parameters
    ----------
    services : iterable of AccessService or None
        The services given to ``TransportNetwork``.

    Returns
    -------
    list of AccessService
        Empty for None.

    Raises
    ------
    NetworkError
        An entry is not an :class:`AccessService`.
    """
    out = list(services or [])
    for k, service in enumerate(out):
        if not isinstance(service, AccessService):
            raise NetworkError(
                f"access_services[{k}] must be a transitmile.engines.access.AccessService, "
                f"got {show_value(service)}"
            )
    return out


def with_access_services(
    network: TransportNetwork,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    request: TravelTimeRequest,
    access: SparseTimes | None,
    egress: SparseTimes | None,
) -> tuple[SparseTimes | None, SparseTimes | None]:
    """Street access and egress combined with the network's access services.

    Parameters
    ----------
    network : TransportNetwork
        Carries ``access_services``.
    origins, destinations : GeoDataFrame
        The request's points.
    request : TravelTimeRequest
        The request.
    access, egress : SparseTimes or None
        Street tables (origin x stop, stop x destination) or None.

    Returns
    -------
    access, egress : SparseTimes or None
        Per pair, the shortest time over the street table and every service's table.

    Raises
    ------
    RoutingError
        A service returned a table of the wrong shape or with bad values (the message
        names the service).
    """
    n_stops = len(network.stops)
    access_tables = [] if access is None else [access]
    egress_tables = [] if egress is None else [egress]
    for service in getattr(network, "access_services", ()):
        legs = (
            ("access", service.access_times(network, origins, request),
             (len(origins), n_stops), access_tables),
            ("egress", service.egress_times(network, destinations, request),
             (n_stops, len(destinations)), egress_tables),
        )  # fmt: skip
        for leg, table, shape, tables in legs:
            if table is not None:
                tables.append(check_sparse_times(f"{service.name} {leg}", table, shape))
    return min_tables(access_tables, None), min_tables(egress_tables, None)


def with_direct_services(
    network: TransportNetwork,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    request: TravelTimeRequest,
    direct: SparseTimes,
) -> SparseTimes:
    """Door-to-door street times combined with the services' whole trips.

    Parameters
    ----------
    network : TransportNetwork
        Carries ``access_services``.
    origins, destinations : GeoDataFrame
        The request's points.
    request : TravelTimeRequest
        The request.
    direct : SparseTimes
        Street table, origin x destination.

    Returns
    -------
    SparseTimes
        Per pair, the shortest time over the street table and every service's
        :meth:`AccessService.direct_times`.

    Raises
    ------
    RoutingError
        A service returned a table of the wrong shape or with bad values.
    """
    tables = [direct]
    for service in getattr(network, "access_services", ()):
        table = service.direct_times(network, origins, destinations, request)
        if table is not None:
            tables.append(check_sparse_times(f"{service.name} direct", table, direct.shape))
    return min_tables(tables, direct.shape)
