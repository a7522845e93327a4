"""What every intervention shares: a name, costs, a lead time, checked geometry.

Interventions change the network a scenario routes on. Two kinds exist:

- *network edits* change what the network is built from: :class:`WalkingLinks`
  (an edited OSM extract) and :class:`Shuttle` (one more GTFS feed). Both engines
  read the same files, so R5 and the embedded engine route the same scenario.
- *access services* (:class:`BikeShare`, :class:`Microtransit`, :class:`Scooters`)
  add access and egress times between points and stops, as a sparse table that the
  embedded engine combines with walking by taking the minimum per pair.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import shape

from ..errors import StudyError, TransitmileError, show_value
from .costs import Costs, _check_number

__all__ = ["Intervention", "LEAD_TIMES", "as_geometry", "check_inside", "canonical_json"]

#: Lead times of the implementation plan, in the order they are delivered.
LEAD_TIMES = ("quick_win", "medium", "capital")


class Intervention:
    """Base of every intervention: ``name``, ``costs`` and the planner's lead time.

    Subclasses are dataclasses with ``name`` and ``costs`` fields and set the class
    attributes ``kind`` (the YAML ``type``) and ``lead_time`` (one of
    :data:`LEAD_TIMES`).
    """

    kind: ClassVar[str] = ""
    lead_time: ClassVar[str] = "medium"
    #: Who delivers it, for the 90-day checklist.
    owner_role: ClassVar[str] = "transport planning"
    name: str
    costs: Costs | None

    def total_costs(self) -> Costs:
        """Return the costs: given, or derived from the intervention's size (see subclasses)."""
        if self.costs is None:
            raise StudyError(f"{self.kind} {self.name!r}: field 'costs' is required")
        return self.costs

    def describe(self) -> str:
        """One line saying what and where, for the plan."""
        return f"{self.kind.replace('_', ' ')} {self.name!r}"

    def geometry(self) -> shapely.Geometry | None:
        """Return where the intervention is, in lon/lat (None when it has no place)."""
        return None

    def where(self) -> str:
        """Say where it is, for the plan (the centre of its geometry, lon/lat)."""
        geometry = self.geometry()
        if geometry is None:
            return ""
        point = geometry.centroid
        return f"around lon {point.x:.5f}, lat {point.y:.5f}"

    def check(self, network) -> None:
        """Raise StudyError when the intervention lies outside the network's streets.

        Parameters
        ----------
        network : TransportNetwork
            The baseline it is applied to.
        """
        geometry = self.geometry()
        if geometry is not None:
            field = {"microtransit": "zone", "scooters": "area"}.get(self.kind, "geometry")
            check_inside(network, geometry, f"{self.kind} {self.name!r}", field, partly=True)

    def spec(self) -> dict[str, Any]:
        """Plain JSON-able description (type, name, parameters, geometry as WKT)."""
        out: dict[str, Any] = {"type": self.kind}
        for item in dataclasses.fields(self):  # the declared fields, not derived attributes
            out[item.name] = _plain(getattr(self, item.name))
        return out


def _plain(value):
    """JSON-able form of a field value (geometry as WKT, frames as records)."""
    if isinstance(value, gpd.GeoDataFrame):
        frame = value.to_crs("EPSG:4326")
        records = frame.drop(columns=frame.geometry.name).to_dict("records")
        return [
            {**{k: _plain(v) for k, v in r.items()}, "wkt": g.wkt}
            for r, g in zip(records, frame.geometry, strict=True)
        ]
    if isinstance(value, shapely.Geometry):
        return value.wkt
    if isinstance(value, Costs):
        return value.as_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def canonical_json(interventions) -> str:
    """One canonical JSON text for a list of interventions (sorted keys), for cache keys."""
    return json.dumps([i.spec() for i in interventions], sort_keys=True, default=str)


def as_geometry(value, owner: str, field: str, kinds: tuple[str, ...]) -> shapely.Geometry:
    """Return a lon/lat (EPSG:4326) geometry from a shapely object or a GeoJSON mapping.

    Parameters
    ----------
    value : shapely geometry or mapping
        ``{"type": "Polygon", "coordinates": ...}``, a GeoJSON Feature, or a geometry.
    owner : str
        Who it belongs to, for the message (e.g. ``"scenario 'A': microtransit 'Z'"``).
    field : str
        The field name, for the message.
    kinds : tuple of str
        Accepted geometry types (e.g. ``("Polygon", "MultiPolygon")``).

    Returns
    -------
    shapely.Geometry

    Raises
    ------
    StudyError
        Not a geometry, a wrong type, or coordinates outside lon/lat bounds (a
        projected CRS given where WGS84 lon/lat is expected).
    """
    geometry = value
    if isinstance(value, Mapping):
        if value.get("type") == "Feature":
            value = value.get("geometry") or {}
        if value.get("type") == "FeatureCollection":
            features = value.get("features") or []
            value = features[0].get("geometry", {}) if len(features) == 1 else value
        try:
            geometry = shape(value)
        except Exception as exc:  # shapely raises several types for bad GeoJSON
            raise StudyError(
                f"{owner}: field {field!r} is not a GeoJSON geometry ({exc}): {show_value(dict(value))}"
            ) from exc
    if not isinstance(geometry, shapely.Geometry) or geometry.is_empty:
        raise StudyError(f"{owner}: field {field!r} must be a geometry, got {show_value(value)}")
    if geometry.geom_type not in kinds:
        raise StudyError(
            f"{owner}: field {field!r} must be a {' or '.join(kinds)}, got {geometry.geom_type}"
        )
    minx, miny, maxx, maxy = geometry.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise StudyError(
            f"{owner}: field {field!r} has coordinates {show_value((minx, miny))} outside "
            "longitude/latitude bounds; give WGS84 lon/lat (EPSG:4326), not projected metres"
        )
    return geometry


def check_inside(
    network, geometry: shapely.Geometry, owner: str, field: str, *, partly: bool = False
) -> None:
    """Raise StudyError when a geometry lies outside the network's street area.

    The area is the bounding box of the walk graph's nodes, widened by the snap radius.

    Parameters
    ----------
    network : TransportNetwork
    geometry : shapely.Geometry
        In lon/lat.
    owner, field : str
        For the message.
    partly : bool
        Accept a geometry that overlaps the area (a zone larger than the extract);
        else it must lie wholly inside.
    """
    from .. import settings

    walk = network.walk
    pad = settings.snap_radius_m / 111_000.0  # degrees of latitude; generous for longitude
    box = shapely.box(
        walk.node_lon.min() - pad, walk.node_lat.min() - pad,
        walk.node_lon.max() + pad, walk.node_lat.max() + pad,
    )  # fmt: skip
    inside = box.intersects(geometry) if partly else box.contains(geometry)
    if not inside:
        x, y = geometry.representative_point().coords[0]
        raise StudyError(
            f"{owner}: field {field!r} lies {'' if partly else '(partly) '}outside the street "
            f"network of {network.osm_pbf.name} (lon {box.bounds[0]:.4f}..{box.bounds[2]:.4f}, "
            f"lat {box.bounds[1]:.4f}..{box.bounds[3]:.4f}); e.g. near ({x:.5f}, {y:.5f})"
        )


def positive(owner: str, field: str, value) -> float:
    """Return a number > 0 (else a StudyError naming the field)."""
    return _check_number(owner, field, value, strict=True)


def non_negative(owner: str, field: str, value) -> float:
    """Return a number >= 0 (else a StudyError naming the field)."""
    return _check_number(owner, field, value)


#: Unit costs of a vehicle service when its costs are not given.
DEFAULT_VEHICLE_COST_SOURCE = (
    "assumption: BRL 120 per vehicle-hour (driver, fuel, maintenance, dispatch software for a "
    "van) and BRL 250,000 per van; replace with the operator's figures"
)


@dataclass(eq=False, kw_only=True)
class VehicleService:
    """Service span and vehicle unit costs shared by shuttles and microtransit.

    Attributes
    ----------
    start, end : str
        Service span ``"HH:MM"`` within the service day.
    days_per_year : float
        Days of service a year.
    costs : Costs, optional
        Default: vehicles x ``capital_per_vehicle``; vehicles x span hours x days x
        ``cost_per_vehicle_hour`` a year; 8-year life.
    cost_per_vehicle_hour, capital_per_vehicle : float
        Unit costs of the default, currency units.
    unit_cost_source : str
        Source of the unit costs.
    """

    start: str = "06:00"
    end: str = "20:00"
    days_per_year: float = 250.0
    costs: Costs | None = None
    cost_per_vehicle_hour: float = 120.0
    capital_per_vehicle: float = 250_000.0
    unit_cost_source: str = DEFAULT_VEHICLE_COST_SOURCE

    def _check_service(self, owner: str) -> None:
        """Check span and unit costs; sets ``span_hours``."""
        positive(owner, "days_per_year", self.days_per_year)
        non_negative(owner, "cost_per_vehicle_hour", self.cost_per_vehicle_hour)
        non_negative(owner, "capital_per_vehicle", self.capital_per_vehicle)
        self.span_hours = span_hours(self.start, self.end, owner)

    def _vehicle_costs(self, vehicles: int) -> Costs:
        """Given costs, or ``vehicles`` priced with the unit costs over the span."""
        if self.costs is not None:
            return self.costs
        return Costs(
            capital=vehicles * self.capital_per_vehicle,
            annual_operating=vehicles * self.span_hours * self.days_per_year
            * self.cost_per_vehicle_hour,
            life_years=8.0,
            source=self.unit_cost_source,
        )  # fmt: skip


def span_hours(start: str, end: str, owner: str) -> float:
    """Return the hours between two clock times of one service day (else StudyError)."""
    from ..feeds.service import service_window

    try:
        start_s, end_s = service_window(start, end)
    except TransitmileError as exc:
        raise StudyError(
            f"{owner}: fields 'start'/'end' {show_value((start, end))}: {exc}"
        ) from exc
    if not 0 <= start_s < end_s <= 30 * 3600:
        raise StudyError(
            f"{owner}: service span {start}-{end} must lie inside the service day (00:00-30:00) "
            "and end after it starts"
        )
    return (end_s - start_s) / 3600.0


def vehicles_needed(cycle_minutes: float, headway_minutes: float) -> int:
    """Vehicles to run a cycle at a headway: ``ceil(cycle / headway)``."""
    return max(1, math.ceil(round(cycle_minutes / headway_minutes, 9)))
