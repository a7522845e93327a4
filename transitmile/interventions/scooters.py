"""Dockless e-scooters (or dockless bikes) inside a service area."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely

from .base import Intervention, as_geometry, non_negative, positive
from .costs import Costs
from .service import AccessLegs, snapped, street_seconds

__all__ = ["Scooters"]


@dataclass(eq=False)
class Scooters(Intervention, AccessLegs):
    """Dockless vehicles usable between any two places inside a service area.

    A leg is: walk to a vehicle (``walk_to_vehicle_min``), unlock, ride on the bike
    network at ``speed_kmh``; both ends inside ``area``.

    Parameters
    ----------
    name : str
    area : shapely Polygon or MultiPolygon, or a GeoJSON mapping
        Service area, lon/lat (or read from GBFS ``geofencing_zones.json`` with
        :meth:`from_gbfs`).
    speed_kmh : float
        Riding speed, km/h (default 15).
    unlock_min : float
        Minutes to unlock (default 1).
    walk_to_vehicle_min : float
        Minutes to find and reach a vehicle (default 3).
    max_ride_min : float
        Longest ride, minutes (default 20).
    costs : Costs, optional
        Public cost of a permitted private operator (default: an assumption).
    """

    name: str = field()  # required: no default from AccessService.name
    area: shapely.Geometry
    speed_kmh: float = 15.0
    unlock_min: float = 1.0
    walk_to_vehicle_min: float = 3.0
    max_ride_min: float = 20.0
    costs: Costs | None = None

    kind = "scooters"
    lead_time = "quick_win"
    owner_role = "mobility permits office"

    def __post_init__(self) -> None:
        """Check the area and parameters (StudyError naming the field)."""
        owner = f"scooters {self.name!r}"
        self.area = as_geometry(self.area, owner, "area", ("Polygon", "MultiPolygon"))
        positive(owner, "speed_kmh", self.speed_kmh)
        positive(owner, "max_ride_min", self.max_ride_min)
        non_negative(owner, "unlock_min", self.unlock_min)
        non_negative(owner, "walk_to_vehicle_min", self.walk_to_vehicle_min)

    @classmethod
    def from_gbfs(cls, path_or_url: str | os.PathLike, name: str | None = None, **kwargs):
        """Service area from GBFS ``geofencing_zones.json`` (zones where riding is allowed).

        Parameters
        ----------
        path_or_url : str or path-like
            Local file or URL.
        name : str, optional
        **kwargs
            Other :class:`Scooters` parameters.

        Returns
        -------
        Scooters
        """
        from .gbfs import read_service_area

        return cls(name=name or "scooters", area=read_service_area(path_or_url), **kwargs)

    def total_costs(self) -> Costs:
        """Given costs, or the city's cost to permit and manage a private operator."""
        if self.costs is not None:
            return self.costs
        return Costs(
            capital=50_000.0,
            annual_operating=60_000.0,
            life_years=5.0,
            source=(
                "assumption: vehicles are the private operator's; the city pays parking corrals "
                "(BRL 50,000) and staff time to manage the permit (BRL 60,000 a year)"
            ),
        )

    def describe(self) -> str:
        """Say what and where, for the plan."""
        area = gpd.GeoSeries([self.area], crs="EPSG:4326")
        km2 = float(area.to_crs(area.estimate_utm_crs()).area.iloc[0]) / 1e6
        return f"dockless scooters {self.name!r} in a {km2:.1f} km2 service area"

    def geometry(self) -> shapely.Geometry:
        """Return the service area, lon/lat."""
        return self.area

    def _inside(self, network, places: gpd.GeoDataFrame) -> np.ndarray:
        geometry = places.geometry.to_crs("EPSG:4326")
        return shapely.contains_xy(self.area, geometry.x.to_numpy(), geometry.y.to_numpy())

    def seconds_between(self, network, from_places, to_places, request) -> np.ndarray:
        """Find + unlock + ride on the bike network, seconds, both ends inside the area."""
        bike = network.street_graph("BICYCLE")
        ride = street_seconds(
            bike, snapped(network, from_places, "BICYCLE"), snapped(network, to_places, "BICYCLE"),
            self.speed_kmh, self.max_ride_min * 60.0,
        )  # fmt: skip
        served = (
            self._inside(network, from_places)[:, None] & self._inside(network, to_places)[None, :]
        )
        return np.where(served, ride + (self.unlock_min + self.walk_to_vehicle_min) * 60.0, np.inf)
