"""Shuttle: a fixed feeder route written as one more GTFS feed.

The route runs through an ordered list of stops (existing stop ids or new points)
at a headway over a service span. Run times come from the street network at an
operating speed, plus a dwell at each stop. The feed (agency, routes, trips,
stop_times, frequencies, calendar for the study date) is read back by
:func:`transitmile.load_feeds` and joins the scenario network as one more feed, so
R5 and the embedded engine route the same service.
"""

from __future__ import annotations

import datetime as dt
import io as _io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import StudyError, show_value
from ..feeds.service import service_window
from ..io import atomic_path
from ..streets import street_travel_times
from .base import (
    Intervention,
    VehicleService,
    check_inside,
    non_negative,
    positive,
    vehicles_needed,
)
from .costs import Costs
from .service import snapped

__all__ = ["Shuttle", "shuttle_gtfs"]

#: GTFS route_type of a shuttle (3 = bus).
ROUTE_TYPE_BUS = 3


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def shuttle_gtfs(
    name: str,
    stops: pd.DataFrame,
    leg_seconds: np.ndarray,
    *,
    headway_s: int,
    start_s: int,
    end_s: int,
    dwell_s: int,
    date: dt.date,
    loop: bool,
) -> dict[str, pd.DataFrame]:
    """Build the GTFS tables of a shuttle (pure: every time worked out from the arguments).

    Parameters
    ----------
    name : str
        Route name.
    stops : DataFrame
        ``stop_id, stop_name, stop_lat, stop_lon`` in running order.
    leg_seconds : ndarray
        Driving seconds between consecutive stops: ``n - 1`` values, or ``n`` for a
        loop (the last leg returns to the first stop). For a two-way route the second
        direction uses the same legs in reverse order.
    headway_s, start_s, end_s, dwell_s : int
        Seconds: headway, first and last departure window (``frequencies.txt``
        start/end), dwell at each intermediate stop.
    date : datetime.date
        The one service date of ``calendar.txt``.
    loop : bool
        One direction back to the first stop, or two directions.

    Returns
    -------
    dict of str to DataFrame
        ``agency, routes, stops, trips, stop_times, frequencies, calendar``.
        Trips are headway-based (``exact_times = 0``), as R5 models frequencies.
    """
    legs = np.asarray(leg_seconds, dtype=np.float64)
    ids = list(stops["stop_id"])
    if loop:
        directions = {0: (ids + ids[:1], legs)}
    else:
        directions = {0: (ids, legs), 1: (ids[::-1], legs[::-1])}
    trips, stop_times, frequencies = [], [], []
    for direction, (sequence, run) in directions.items():
        trip_id = f"{name}_d{direction}"
        trips.append({"route_id": name, "service_id": "shuttle", "trip_id": trip_id,
                      "direction_id": direction})  # fmt: skip
        # arrive after the leg, leave after the dwell (no dwell at the ends)
        arrive = np.concatenate([[0.0], np.cumsum(run) + dwell_s * np.arange(len(run))])
        depart = arrive + np.r_[np.zeros(1), np.full(len(run) - 1, dwell_s), np.zeros(1)]
        for k, stop_id in enumerate(sequence):
            stop_times.append({"trip_id": trip_id, "arrival_time": _clock(start_s + arrive[k]),
                               "departure_time": _clock(start_s + depart[k]), "stop_id": stop_id,
                               "stop_sequence": k + 1})  # fmt: skip
        frequencies.append({"trip_id": trip_id, "start_time": _clock(start_s),
                            "end_time": _clock(end_s), "headway_secs": int(headway_s),
                            "exact_times": 0})  # fmt: skip
    weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    calendar = {"service_id": "shuttle"} | {
        d: int(i == date.weekday()) for i, d in enumerate(weekdays)
    }
    calendar |= {"start_date": f"{date:%Y%m%d}", "end_date": f"{date:%Y%m%d}"}
    return {
        "agency": pd.DataFrame(
            [
                {
                    "agency_id": "shuttle",
                    "agency_name": f"Shuttle {name}",
                    "agency_url": "https://example.invalid/",
                    "agency_timezone": "America/Sao_Paulo",
                }
            ]
        ),  # fmt: skip
        "routes": pd.DataFrame(
            [
                {
                    "route_id": name,
                    "agency_id": "shuttle",
                    "route_short_name": name,
                    "route_long_name": f"Shuttle {name}",
                    "route_type": ROUTE_TYPE_BUS,
                }
            ]
        ),  # fmt: skip
        "stops": stops[["stop_id", "stop_name", "stop_lat", "stop_lon"]].reset_index(drop=True),
        "trips": pd.DataFrame(trips),
        "stop_times": pd.DataFrame(stop_times),
        "frequencies": pd.DataFrame(frequencies),
        "calendar": pd.DataFrame([calendar]),
    }


@dataclass(eq=False)
class Shuttle(VehicleService, Intervention):
    """A fixed feeder route at a headway.

    Parameters
    ----------
    name : str
        Route name (letters, digits, ``_`` and ``-``; it names the feed file).
    stops : list
        In running order, at least two: existing stop ids (``"poa_eptc:4220"``) or
        new stops as ``{"lon": ..., "lat": ..., "name": ...}``.
    headway_min : float
        Minutes between departures (> 0).
    start, end : str
        Service span ``"HH:MM"`` within the service day.
    dwell_s : float
        Seconds stopped at each intermediate stop (default 20).
    speed_kmh : float
        Operating speed on the street network, km/h (default 18).
    loop : bool
        Run one way round back to the first stop, instead of both directions.
    days_per_year : float
        Days of service a year (for the default operating cost).
    costs : Costs, optional
        Default: vehicles x ``capital_per_vehicle``; vehicle-hours x ``cost_per_vehicle_hour``.
    cost_per_vehicle_hour, capital_per_vehicle : float
        Unit costs of the default.
    unit_cost_source : str
    """

    name: str
    stops: list
    headway_min: float
    dwell_s: float = 20.0
    speed_kmh: float = 18.0
    loop: bool = False

    kind = "shuttle"
    lead_time = "medium"
    owner_role = "transit agency (service planning)"

    def __post_init__(self) -> None:
        """Check stops, headway and span (StudyError naming the field)."""
        owner = f"shuttle {self.name!r}"
        if not isinstance(self.name, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", self.name):
            raise StudyError(
                f"shuttle: field 'name' must be letters, digits, '_' or '-', got {show_value(self.name)}"
            )
        if not isinstance(self.stops, list) or len(self.stops) < 2:
            raise StudyError(
                f"{owner}: field 'stops' needs at least two stops, got {show_value(self.stops)}"
            )
        for k, stop in enumerate(self.stops):
            ok = isinstance(stop, str) or (isinstance(stop, dict) and {"lon", "lat"} <= set(stop))
            if not ok:
                raise StudyError(
                    f"{owner}: field 'stops' item {k} must be a stop id or {{lon, lat}}, got {show_value(stop)}"
                )
        positive(owner, "headway_min", self.headway_min)
        positive(owner, "speed_kmh", self.speed_kmh)
        non_negative(owner, "dwell_s", self.dwell_s)
        self._check_service(owner)

    @property
    def headway_s(self) -> int:
        """Headway, whole seconds."""
        return int(round(self.headway_min * 60))

    def stop_table(self, network) -> pd.DataFrame:
        """``stop_id, stop_name, stop_lat, stop_lon`` in running order (ids checked)."""
        owner = f"shuttle {self.name!r}"
        known = network.stops.set_index("id").geometry
        rows = []
        for k, stop in enumerate(self.stops):
            if isinstance(stop, str):
                if stop not in known.index:
                    raise StudyError(
                        f"{owner}: field 'stops' item {k}: stop id {stop!r} is not in the network"
                    )
                point = known[stop]
                lon, lat, label = point.x, point.y, stop
            else:
                lon, lat, label = (
                    float(stop["lon"]),
                    float(stop["lat"]),
                    str(stop.get("name", f"stop {k + 1}")),
                )
            rows.append(
                {
                    "stop_id": f"{self.name}_{k + 1}",
                    "stop_name": label,
                    "stop_lat": lat,
                    "stop_lon": lon,
                }
            )
        table = pd.DataFrame(rows)
        points = gpd.GeoSeries(
            gpd.points_from_xy(table["stop_lon"], table["stop_lat"]), crs="EPSG:4326"
        )
        check_inside(network, points.union_all(), owner, "stops")
        return table

    def leg_seconds(self, network, stops: pd.DataFrame) -> np.ndarray:
        """Driving seconds between consecutive stops on the bike network's streets.

        The bike graph (roads and one-way rules, no footways) stands in for the
        road network at ``speed_kmh``.
        """
        places = gpd.GeoDataFrame(
            {"id": stops["stop_id"]},
            geometry=gpd.points_from_xy(stops["stop_lon"], stops["stop_lat"]), crs="EPSG:4326",
        )  # fmt: skip
        points = snapped(network, places, "BICYCLE")
        table = street_travel_times(
            network.street_graph("BICYCLE"), points, points, self.speed_kmh, 4 * 3600
        ).to_dense()
        order = list(range(len(stops))) + ([0] if self.loop else [])
        legs = np.array([table[a, b] for a, b in zip(order[:-1], order[1:], strict=True)])
        if not np.isfinite(legs).all():
            k = int(np.flatnonzero(~np.isfinite(legs))[0])
            raise StudyError(
                f"shuttle {self.name!r}: field 'stops': no street path from stop {k + 1} "
                f"({stops['stop_name'].iloc[order[k]]}) to the next one"
            )
        return legs

    def cycle_minutes(self, legs: np.ndarray) -> float:
        """Minutes for one vehicle to run the whole cycle (both ways, or the loop)."""
        stops = len(legs) + (0 if self.loop else 1)
        dwell = self.dwell_s * max(stops - 2, 0) + (self.dwell_s if self.loop else 0)
        one_way = legs.sum() + dwell
        return (one_way if self.loop else 2 * one_way) / 60.0

    def write_gtfs(self, network, folder: str | os.PathLike) -> Path:
        """Write the shuttle as a GTFS zip ``shuttle_<name>.zip`` in ``folder`` (atomically).

        Parameters
        ----------
        network : TransportNetwork
            For stop ids, the streets (run times) and the service date.
        folder : path-like

        Returns
        -------
        Path
        """
        stops = self.stop_table(network)
        legs = self.leg_seconds(network, stops)
        self._vehicles = vehicles_needed(self.cycle_minutes(legs), self.headway_min)
        start_s, end_s = service_window(self.start, self.end)
        tables = shuttle_gtfs(
            self.name, stops, np.rint(legs), headway_s=self.headway_s, start_s=start_s,
            end_s=end_s, dwell_s=int(round(self.dwell_s)), date=network.date, loop=self.loop,
        )  # fmt: skip
        target = Path(folder) / f"shuttle_{self.name}.zip"
        tmp = atomic_path(target)
        try:
            with zipfile.ZipFile(tmp, "w") as archive:
                for table, frame in tables.items():
                    text = _io.StringIO()
                    frame.to_csv(text, index=False)
                    archive.writestr(f"{table}.txt", text.getvalue())
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    def total_costs(self) -> Costs:
        """Return the given costs, or the vehicles its cycle needs priced over the span.

        The vehicles come from the run times, known once :meth:`write_gtfs` has run
        (scenario networks call it).
        """
        vehicles = getattr(self, "_vehicles", None)
        if self.costs is None and vehicles is None:
            raise StudyError(
                f"shuttle {self.name!r}: costs are derived from its run times; build the scenario "
                "network first (or give 'costs')"
            )
        return self._vehicle_costs(vehicles)

    def where(self) -> str:
        """Say where it runs: its first and last stop."""
        label = [
            s if isinstance(s, str) else s.get("name", f"({s['lon']:.5f}, {s['lat']:.5f})")
            for s in self.stops
        ]
        return f"from {label[0]} to {label[-1]}" + (" and back" if self.loop else "")

    def check(self, network) -> None:
        """Raise StudyError for unknown stop ids or stops outside the network's streets."""
        self.stop_table(network)

    def describe(self) -> str:
        """Say what and where, for the plan."""
        return f"shuttle {self.name!r}: {len(self.stops)} stops every {self.headway_min:g} min, {self.start}-{self.end}"
