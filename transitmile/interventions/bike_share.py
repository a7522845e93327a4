"""Docked bike-share: walk to a station, unlock, cycle to a station, dock, walk on."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import StudyError, show_value
from .base import Intervention, non_negative, positive
from .costs import Costs
from .service import AccessLegs, bike_share_seconds, snapped, street_seconds

__all__ = ["BikeShare", "StationsOffNetworkWarning"]

#: Unit costs used when a bike-share's costs are not given (see ``unit_cost_source``).
DEFAULT_UNIT_COSTS = {
    "capital_per_station": 60_000.0,
    "capital_per_bike": 4_000.0,
    "operating_per_bike_per_year": 6_000.0,
}
DEFAULT_UNIT_COST_SOURCE = (
    "assumption: order of magnitude of ITDP's Bike-share Planning Guide (2018) ranges for "
    "docked systems (capital about US$3,000-5,000 per bike including its share of stations, "
    "operations about US$1,000-2,000 per bike a year) at about 5 BRL per US$; replace with "
    "local bids"
)


class StationsOffNetworkWarning(UserWarning):
    """Some bike-share stations lie beyond the street network and carry no trips."""


@dataclass(eq=False)
class BikeShare(Intervention, AccessLegs):
    """A docked bike-share system, routed as access, egress and whole trips.

    Parameters
    ----------
    name : str
        Planner's name for it (``"Trensurb Mercado cluster"``).
    stations : GeoDataFrame
        Points with ``id`` and optionally ``capacity`` (docks); any CRS.
    unlock_min, dock_min : float
        Minutes to take a bike out and to return it (default 1 each).
    speed_kmh : float
        Cycling speed on the bike network, km/h (default 12, r5py's cycling speed).
    max_walk_min : float
        Longest walk to or from a station, minutes (default 10).
    bikes : int, optional
        Fleet size; default half the docks (ITDP's 2 docks per bike), or 10 per
        station without capacities.
    costs : Costs, optional
        Default: stations x ``capital_per_station`` + bikes x ``capital_per_bike``,
        bikes x ``operating_per_bike_per_year``, 8-year life.
    capital_per_station, capital_per_bike, operating_per_bike_per_year : float
        Unit costs for the default, currency units.
    unit_cost_source : str
        Source of those unit costs.
    """

    name: str = field()  # required: no default from AccessService.name
    stations: gpd.GeoDataFrame
    unlock_min: float = 1.0
    dock_min: float = 1.0
    speed_kmh: float = 12.0
    max_walk_min: float = 10.0
    bikes: int | None = None
    costs: Costs | None = None
    capital_per_station: float = DEFAULT_UNIT_COSTS["capital_per_station"]
    capital_per_bike: float = DEFAULT_UNIT_COSTS["capital_per_bike"]
    operating_per_bike_per_year: float = DEFAULT_UNIT_COSTS["operating_per_bike_per_year"]
    unit_cost_source: str = DEFAULT_UNIT_COST_SOURCE

    kind = "bike_share"
    lead_time = "quick_win"
    owner_role = "mobility / bike-share operator"

    def __post_init__(self) -> None:
        """Check the stations and the parameters (StudyError naming the field)."""
        owner = f"bike_share {self.name!r}"
        self.stations = stations_frame(self.stations, owner)
        positive(owner, "speed_kmh", self.speed_kmh)
        for key in ("unlock_min", "dock_min", "max_walk_min", "capital_per_station",
                      "capital_per_bike", "operating_per_bike_per_year"):  # fmt: skip
            non_negative(owner, key, getattr(self, key))
        if self.bikes is not None:
            positive(owner, "bikes", self.bikes)

    @classmethod
    def from_gbfs(cls, path_or_url: str | os.PathLike, name: str | None = None, **kwargs):
        """Stations from a GBFS feed (``station_information.json``, optionally status).

        Parameters
        ----------
        path_or_url : str or path-like
            ``station_information.json`` (or a folder / ``gbfs.json`` holding it), a
            local file or a URL (fetched once into the data cache).
        name : str, optional
            Default: the file's system id or stem.
        **kwargs
            Other :class:`BikeShare` parameters.

        Returns
        -------
        BikeShare
        """
        from .gbfs import read_stations

        stations = read_stations(path_or_url)
        return cls(
            name=name or stations.attrs.get("system_id", "bike_share"), stations=stations, **kwargs
        )

    @property
    def n_bikes(self) -> int:
        """Fleet size: given, else half the docks, else 10 per station."""
        if self.bikes is not None:
            return int(self.bikes)
        capacity = self.stations["capacity"]
        if capacity.notna().all():
            return max(1, int(round(capacity.sum() / 2)))
        return 10 * len(self.stations)

    def total_costs(self) -> Costs:
        """Given costs, or derived from the stations and bikes (see the class doc)."""
        if self.costs is not None:
            return self.costs
        return Costs(
            capital=len(self.stations) * self.capital_per_station
            + self.n_bikes * self.capital_per_bike,
            annual_operating=self.n_bikes * self.operating_per_bike_per_year,
            life_years=8.0,
            source=self.unit_cost_source,
        )

    def describe(self) -> str:
        """Say what and where, for the plan."""
        return f"bike-share {self.name!r}: {len(self.stations)} stations, {self.n_bikes} bikes"

    def geometry(self) -> shapely.Geometry:
        """Return the stations, lon/lat."""
        return shapely.union_all(self.stations.geometry.to_numpy())

    def check(self, network) -> None:
        """Warn naming stations beyond the streets; raise StudyError when all are."""
        off = self.stations_off_network(network)
        if len(off) == len(self.stations):
            raise StudyError(
                f"bike_share {self.name!r}: field 'stations': none lies within the snap radius "
                f"of the street network of {network.osm_pbf.name}, e.g. {show_value(off[0])}"
            )
        if off:
            warnings.warn(
                f"bike_share {self.name!r}: stations {off[:10]} lie beyond the street network of "
                f"{network.osm_pbf.name} and carry no trips",
                StationsOffNetworkWarning,
                stacklevel=2,
            )

    def stations_off_network(self, network) -> list:
        """Ids of stations farther than the snap radius from the walk or bike network."""
        walk = snapped(network, self.stations, "WALK").snapped
        bike = snapped(network, self.stations, "BICYCLE").snapped
        return list(self.stations["id"][~(walk & bike)])

    def seconds_between(self, network, from_places, to_places, request) -> np.ndarray:
        """Walk, unlock, ride, dock and walk on, seconds (see :func:`bike_share_seconds`)."""
        walk_limit = self.max_walk_min * 60.0
        walk, bike = network.street_graph("WALK"), network.street_graph("BICYCLE")
        st_walk = snapped(network, self.stations, "WALK")
        st_bike = snapped(network, self.stations, "BICYCLE")
        speed = request.speed_walking
        walk_in = street_seconds(
            walk, snapped(network, from_places, "WALK"), st_walk, speed, walk_limit
        )
        walk_out = street_seconds(
            walk, st_walk, snapped(network, to_places, "WALK"), speed, walk_limit
        )
        ride = street_seconds(bike, st_bike, st_bike, self.speed_kmh, request.max_time_s)
        return bike_share_seconds(walk_in, ride, walk_out, self.unlock_min * 60, self.dock_min * 60)


def stations_frame(value, owner: str) -> gpd.GeoDataFrame:
    """Stations as a lon/lat GeoDataFrame ``id, capacity, geometry`` (checked).

    Parameters
    ----------
    value : GeoDataFrame or list of mappings
        A GeoDataFrame of points with ``id``, or ``[{"id", "lon", "lat", "capacity"}]``.
    owner : str
        For messages.

    Returns
    -------
    GeoDataFrame
    """
    if isinstance(value, list):
        rows = []
        for k, item in enumerate(value):
            if not isinstance(item, dict) or not {"id", "lon", "lat"} <= set(item):
                raise StudyError(
                    f"{owner}: field 'stations' item {k} must have id, lon and lat, got {show_value(item)}"
                )
            unknown = set(item) - {"id", "lon", "lat", "capacity", "name"}
            if unknown:
                raise StudyError(
                    f"{owner}: field 'stations' item {k} has unknown keys {sorted(unknown)}"
                )
            rows.append(item)
        value = gpd.GeoDataFrame(
            {"id": [str(r["id"]) for r in rows], "capacity": [r.get("capacity") for r in rows]},
            geometry=gpd.points_from_xy([r["lon"] for r in rows], [r["lat"] for r in rows]),
            crs="EPSG:4326",
        )
    if not isinstance(value, gpd.GeoDataFrame) or value.crs is None or "id" not in value:
        raise StudyError(
            f"{owner}: field 'stations' must be points with an 'id' and a CRS, got {show_value(value)}"
        )
    if len(value) < 2:
        raise StudyError(f"{owner}: field 'stations' needs at least two stations, got {len(value)}")
    if (value.geometry.geom_type != "Point").any():
        raise StudyError(f"{owner}: field 'stations' must be Points")
    frame = value.to_crs("EPSG:4326")
    minx, miny, maxx, maxy = frame.total_bounds
    if value.crs.is_geographic and not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise StudyError(
            f"{owner}: field 'stations' has coordinates {show_value((minx, miny))} outside "
            "longitude/latitude bounds; give WGS84 lon/lat"
        )
    if frame["id"].duplicated().any():
        raise StudyError(
            f"{owner}: field 'stations' has duplicate ids, e.g. "
            f"{show_value(frame['id'][frame['id'].duplicated()].iloc[0])}"
        )
    if "capacity" not in frame:
        frame["capacity"] = np.nan
    capacity = pd.to_numeric(frame["capacity"], errors="coerce").astype("float64")
    if (capacity < 0).any():
        raise StudyError(
            f"{owner}: field 'stations' capacity must be >= 0, got {show_value(capacity.min())}"
        )
    frame["capacity"] = capacity
    return frame[["id", "capacity", frame.geometry.name]].reset_index(drop=True)
