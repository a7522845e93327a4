"""Microtransit: an on-demand zone that carries residents to and from hub stops.

A leg is ``wait + straight-line distance x detour factor / speed``, the way R5 and
Conveyal model on-demand service (a pick-up wait, then a ride), for points inside
the zone to and from the hub stops.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely

from ..errors import StudyError, show_value
from .base import Intervention, VehicleService, as_geometry, non_negative, positive
from .costs import Costs
from .service import AccessLegs, on_demand_seconds

__all__ = ["Microtransit"]


@dataclass(eq=False)
class Microtransit(VehicleService, Intervention, AccessLegs):
    """An on-demand zone (polygon) serving hub stops.

    Parameters
    ----------
    name : str
    zone : shapely Polygon or MultiPolygon, or a GeoJSON mapping
        Service area, lon/lat.
    hubs : list of str
        Stop ids (as in the network, e.g. ``"poa_trensurb:3"``) the service connects to.
    wait_min : float
        Mean pick-up wait, minutes (default 10).
    speed_kmh : float
        Vehicle speed, km/h (default 20).
    detour_factor : float
        Road distance over straight-line distance (default 1.4, shared rides included).
    vehicles : int
        Vehicles in service (for the default costs).
    start, end : str
        Service span ``"HH:MM"``.
    days_per_year : float
        Days of service a year.
    costs : Costs, optional
        Default: vehicles x capital, vehicles x hours x days x cost per vehicle-hour.
    cost_per_vehicle_hour, capital_per_vehicle : float
        Unit costs of the default.
    unit_cost_source : str
    """

    name: str = field()  # required: no default from AccessService.name
    zone: shapely.Geometry
    hubs: list[str] = field(default_factory=list)
    wait_min: float = 10.0
    speed_kmh: float = 20.0
    detour_factor: float = 1.4
    vehicles: int = 2

    kind = "microtransit"
    lead_time = "quick_win"
    owner_role = "transit agency (on-demand pilot)"

    def __post_init__(self) -> None:
        """Check the zone and parameters (StudyError naming the field)."""
        owner = f"microtransit {self.name!r}"
        self.zone = as_geometry(self.zone, owner, "zone", ("Polygon", "MultiPolygon"))
        if isinstance(self.hubs, str) or not self.hubs:
            raise StudyError(
                f"{owner}: field 'hubs' must list at least one stop id, got {show_value(self.hubs)}"
            )
        self.hubs = [str(h) for h in self.hubs]
        for name in ("speed_kmh", "detour_factor", "vehicles"):
            positive(owner, name, getattr(self, name))
        non_negative(owner, "wait_min", self.wait_min)
        if self.detour_factor < 1:
            raise StudyError(
                f"{owner}: field 'detour_factor' must be >= 1, got {show_value(self.detour_factor)}"
            )
        self._check_service(owner)

    def total_costs(self) -> Costs:
        """Return the given costs, or its vehicles priced over the span (see VehicleService)."""
        return self._vehicle_costs(self.vehicles)

    def describe(self) -> str:
        """Say what and where, for the plan."""
        return f"microtransit {self.name!r}: on-demand zone to stops {self.hubs}"

    def geometry(self) -> shapely.Geometry:
        """Return the zone, lon/lat."""
        return self.zone

    def check(self, network) -> None:
        """Raise StudyError for a zone outside the streets or hubs that are not stops."""
        super().check(network)
        self.check_hubs(network)

    def check_hubs(self, network) -> None:
        """Raise StudyError naming hub ids that are not stops of the network."""
        missing = sorted(set(self.hubs) - set(network.stops["id"]))
        if missing:
            raise StudyError(
                f"microtransit {self.name!r}: field 'hubs' names stops not in the network: "
                f"{show_value(missing)}"
            )

    def _members(self, network, places: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per place: inside the zone (points only), is a hub (stops only)."""
        if places is network.stops:
            hub = places["id"].isin(self.hubs).to_numpy()
            return np.zeros(len(places), bool), hub
        inside = shapely.contains_xy(self.zone, *_lonlat(places))
        return inside, np.zeros(len(places), bool)

    def seconds_between(self, network, from_places, to_places, request) -> np.ndarray:
        """Wait + distance x detour / speed between served pairs, seconds (inf elsewhere)."""
        self.check_hubs(network)
        crs = network.street_graph("WALK").crs
        a = from_places.geometry.to_crs(crs)
        b = to_places.geometry.to_crs(crs)
        distance = np.hypot(
            a.x.to_numpy()[:, None] - b.x.to_numpy()[None, :],
            a.y.to_numpy()[:, None] - b.y.to_numpy()[None, :],
        )
        in_a, hub_a = self._members(network, from_places)
        in_b, hub_b = self._members(network, to_places)
        served = (in_a[:, None] & (in_b | hub_b)[None, :]) | (hub_a[:, None] & in_b[None, :])
        distance = np.where(served, distance, np.inf)
        return on_demand_seconds(distance, self.wait_min * 60.0, self.speed_kmh, self.detour_factor)


def _lonlat(places: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    geometry = places.geometry.to_crs("EPSG:4326")
    return geometry.x.to_numpy(), geometry.y.to_numpy()
