"""Scenarios: sets of interventions measured against the baseline, in minutes and money.

A study YAML (``data/studies/*.yml``) carries two keys read here:

- ``economics:`` the value of time, trips per resident, discount rate, currency and
  days per year, each with its source (:func:`read_economics`);
- ``scenarios:`` a list of ``{name, notes, interventions: [{type: ..., ...}]}``
  (:func:`read_scenarios`). Geometries are inline GeoJSON mappings or GeoJSON files
  resolved relative to the YAML, inside the YAML's folder or the repository's
  ``data/`` folder.

:func:`compare_scenarios` builds each scenario's network from the baseline (reusing
its cached parts), measures the access-gap metrics of :mod:`transitmile.access` on
both, and turns the differences into time saved, money and a benefit-cost ratio.
:func:`implementation_plan` ranks the interventions and writes a 90-day checklist.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import logging
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

from . import settings
from .data import file_sha256
from .errors import RoutingError, StudyError, TransitmileError, show_value
from .interventions import (
    INTERVENTION_TYPES,
    AccessLegs,
    Costs,
    Economics,
    Intervention,
    Shuttle,
    StationsOffNetworkWarning,
    WalkingLinks,
    canonical_json,
)
from .interventions.gbfs import read_service_area, read_stations

__all__ = [
    "Scenario",
    "read_scenarios",
    "read_economics",
    "parse_scenarios",
    "parse_economics",
    "scenario_network",
    "compare_scenarios",
    "implementation_plan",
]

log = logging.getLogger("transitmile")

#: The repository's data folder: GeoJSON files of a study may live here.
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

#: Fields that hold a geometry (inline GeoJSON or a GeoJSON file), per type.
_GEOMETRY_FIELDS = {"bike_share": "stations", "microtransit": "zone", "scooters": "area",
                    "walking_links": "links"}  # fmt: skip
#: GBFS readers of the types that accept a ``gbfs:`` file instead of their geometry.
_GBFS_READERS = {"bike_share": read_stations, "scooters": read_service_area}
#: Extra YAML keys, per type, that are not dataclass fields.
_EXTRA_KEYS = {"bike_share": {"gbfs"}, "scooters": {"gbfs"}}


@dataclass
class Scenario:
    """A named set of interventions applied together to the baseline.

    Attributes
    ----------
    name : str
    interventions : list of Intervention
    notes : str
        Why this scenario, and where its places come from.
    """

    name: str
    interventions: list[Intervention] = field(default_factory=list)
    notes: str = ""

    @property
    def access_services(self) -> list[AccessLegs]:
        """The interventions the engine routes as access/egress services."""
        return [i for i in self.interventions if isinstance(i, AccessLegs)]

    @property
    def speed_walking(self) -> float | None:
        """Walking speed set by a WalkingLinks intervention, if any (km/h)."""
        speeds = [i.speed_walking for i in self.interventions if isinstance(i, WalkingLinks)]
        speeds = [s for s in speeds if s is not None]
        return max(speeds) if speeds else None


# ------------------------------------------------------------------------------ reading
def _load(path: str | os.PathLike) -> tuple[dict, Path]:
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise StudyError(f"study file {str(path)!r} does not exist")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise StudyError(f"study file {path.name}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise StudyError(
            f"study file {path.name}: expected a mapping of keys, got {type(document).__name__}"
        )
    return document, path


def read_economics(path: str | os.PathLike) -> Economics:
    """Read the ``economics:`` key of a study YAML.

    Parameters
    ----------
    path : path-like
        The study YAML.

    Returns
    -------
    Economics

    Raises
    ------
    StudyError
        Missing key, unknown or missing fields, negative figures, sources not stated.
    """
    document, path = _load(path)
    if "economics" not in document:
        raise StudyError(f"study file {path.name}: no 'economics' key")
    return parse_economics(document["economics"], source=path.name)


def parse_economics(mapping, source: str = "study") -> Economics:
    """:class:`Economics` from the ``economics:`` mapping (see :func:`read_economics`)."""
    return _construct(Economics, mapping, f"{source}: economics")


def read_scenarios(path: str | os.PathLike) -> list[Scenario]:
    """Read the ``scenarios:`` key of a study YAML, schema-checked.

    Parameters
    ----------
    path : path-like
        The study YAML (read with ``yaml.safe_load``).

    Returns
    -------
    list of Scenario

    Raises
    ------
    StudyError
        Naming the scenario and the field: an unknown intervention type or key, a
        geometry not in lon/lat or a file outside the allowed folders, a shuttle with
        fewer than two stops, a zero headway or a span outside the service day,
        negative costs.
    """
    document, path = _load(path)
    if "scenarios" not in document:
        raise StudyError(f"study file {path.name}: no 'scenarios' key")
    return parse_scenarios(document["scenarios"], base_dir=path.parent, source=path.name)


def parse_scenarios(items, base_dir: str | os.PathLike, source: str = "study") -> list[Scenario]:
    """Scenarios from the ``scenarios:`` list (see :func:`read_scenarios`).

    Parameters
    ----------
    items : list of mappings
    base_dir : path-like
        Folder GeoJSON file names are resolved against (the YAML's).
    source : str
        Name of the YAML, for messages.

    Returns
    -------
    list of Scenario
    """
    base_dir = Path(base_dir).resolve()
    if not isinstance(items, list) or not items:
        raise StudyError(
            f"{source}: 'scenarios' must be a list of scenarios, got {show_value(items)}"
        )
    scenarios, names = [], set()
    for k, item in enumerate(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise StudyError(
                f"{source}: scenarios item {k} must be a mapping with a 'name', got {show_value(item)}"
            )
        name = item["name"]
        owner = f"{source}: scenario {name!r}"
        unknown = sorted(set(item) - {"name", "notes", "interventions"})
        if unknown:
            raise StudyError(
                f"{owner}: unknown field(s) {unknown}; expected name, notes, interventions"
            )
        if name in names:
            raise StudyError(f"{owner}: field 'name' is used by another scenario")
        names.add(name)
        listed = item.get("interventions")
        if not isinstance(listed, list) or not listed:
            raise StudyError(f"{owner}: field 'interventions' must list at least one intervention")
        interventions = [_intervention(entry, owner, j, base_dir) for j, entry in enumerate(listed)]
        scenarios.append(Scenario(name, interventions, str(item.get("notes", "") or "").strip()))
    return scenarios


def _intervention(entry, owner: str, position: int, base_dir: Path) -> Intervention:
    if not isinstance(entry, Mapping):
        raise StudyError(
            f"{owner}: interventions item {position} must be a mapping, got {show_value(entry)}"
        )
    kind = entry.get("type")
    if kind not in INTERVENTION_TYPES:
        raise StudyError(
            f"{owner}: interventions item {position}: field 'type' must be one of "
            f"{sorted(INTERVENTION_TYPES)}, got {show_value(kind)}"
        )
    cls = INTERVENTION_TYPES[kind]
    where = f"{owner}: {kind} {entry.get('name', position)!r}"
    values = {k: v for k, v in entry.items() if k != "type"}
    values.setdefault("name", f"{kind}_{position + 1}")
    geometry_field = _GEOMETRY_FIELDS.get(kind)
    try:
        if "gbfs" in values:
            gbfs = _data_file(values.pop("gbfs"), base_dir, where, "gbfs", urls=True)
            values[geometry_field] = _GBFS_READERS[kind](gbfs)
        if geometry_field and isinstance(values.get(geometry_field), str):
            values[geometry_field] = _read_geojson(
                values[geometry_field], base_dir, where, geometry_field, kind
            )
        if isinstance(values.get("costs"), Mapping):
            values["costs"] = _construct(Costs, values["costs"], f"{where}: costs")
        return _construct(cls, values, where, extra=_EXTRA_KEYS.get(kind, set()))
    except StudyError as exc:
        message = str(exc)
        if message.startswith(owner):
            raise
        # the intervention's own checks name it ("shuttle 'x': ..."); others name a part
        prefix = owner if message.startswith(f"{kind} ") else where
        raise StudyError(f"{prefix}: {message}") from None
    except TransitmileError as exc:  # a GBFS file that cannot be read
        raise StudyError(f"{where}: {exc}") from exc


def _construct(cls, values, owner: str, extra: set | frozenset = frozenset()):
    """``cls(**values)`` with unknown and missing keys named in a StudyError."""
    if not isinstance(values, Mapping):
        raise StudyError(f"{owner}: expected a mapping of fields, got {show_value(values)}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(values) - set(fields) - set(extra))
    if unknown:
        raise StudyError(f"{owner}: unknown field(s) {unknown}; known: {sorted(fields)}")
    missing = [
        n for n, f in fields.items()
        if n not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]  # fmt: skip
    if missing:
        raise StudyError(f"{owner}: missing field(s) {missing}")
    try:
        return cls(**values)
    except TypeError as exc:
        raise StudyError(f"{owner}: {exc}") from exc


def _data_file(value, base_dir: Path, owner: str, field_name: str, *, urls: bool = False):
    """Resolve a file named in the YAML, kept inside the allowed folders."""
    text = str(value)
    if urls and text.startswith(("http://", "https://")):
        return text
    path = (base_dir / text).resolve()
    allowed = [base_dir, DATA_DIR]
    if not any(path.is_relative_to(folder) for folder in allowed):
        raise StudyError(
            f"{owner}: field {field_name!r} file {text!r} lies outside the study's folder "
            f"({base_dir}) and the repository's data folder"
        )
    if not path.exists():
        raise StudyError(
            f"{owner}: field {field_name!r} file {text!r} does not exist (looked at {path})"
        )
    return path


def _read_geojson(value: str, base_dir: Path, owner: str, field_name: str, kind: str):
    path = _data_file(value, base_dir, owner, field_name)
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise StudyError(f"{owner}: field {field_name!r}: cannot read {path.name}: {exc}") from exc
    if frame.crs is None:
        raise StudyError(f"{owner}: field {field_name!r}: {path.name} has no CRS")
    frame = frame.to_crs("EPSG:4326")
    if kind == "bike_share":
        return frame
    if kind == "walking_links":
        return frame
    return shapely.union_all(frame.geometry.to_numpy())


# --------------------------------------------------------------------- scenario network
def scenario_network(baseline, scenario: Scenario, workdir: str | os.PathLike | None = None):
    """Build the baseline network with a scenario's interventions applied.

    Access services only: the baseline's built network is shared as it is (nothing
    is rebuilt), with the services attached. Walking links: the OSM extract with the
    links added, written once under ``workdir`` and named by the links' hash.
    Shuttles: one GTFS zip each, added to the baseline's feeds. The network built
    from those files reuses the baseline's parts that they leave as they are (the
    street graphs for shuttles, the feed and timetable for walking links) and is
    cached as any other, by the files' hashes and the interventions' canonical JSON.

    Parameters
    ----------
    baseline : TransportNetwork
    scenario : Scenario
    workdir : path-like, optional
        Where edited files go (default ``settings.cache_dir / "scenarios"``).

    Returns
    -------
    TransportNetwork
    """
    from .interventions.walking_links import write_edited_osm
    from .network import TransportNetwork

    links = [
        i for i in scenario.interventions
        if isinstance(i, WalkingLinks) and (len(i.links) or i.closed_ways)
    ]  # fmt: skip
    shuttles = [i for i in scenario.interventions if isinstance(i, Shuttle)]
    services = scenario.access_services
    for item in scenario.interventions:
        try:
            item.check(baseline)
        except StudyError as exc:
            raise StudyError(f"scenario {scenario.name!r}: {exc}") from None
    if not links and not shuttles:
        network = copy.copy(baseline)
        network.access_services = list(services)
        return network
    key = hashlib.sha256(
        (
            canonical_json(links + shuttles) + file_sha256(baseline.osm_pbf) + str(baseline.date)
        ).encode()
    ).hexdigest()[:16]
    folder = Path(workdir) if workdir is not None else settings.cache_dir / "scenarios"
    folder = folder / key
    folder.mkdir(parents=True, exist_ok=True)
    osm = baseline.osm_pbf
    if links:
        osm = folder / "streets.osm.pbf"
        if not osm.is_file():
            write_edited_osm(baseline, links, osm)
    gtfs = list(baseline.gtfs) + [s.write_gtfs(baseline, folder) for s in shuttles]
    names = None
    if baseline.names is not None:
        names = list(baseline.names) + [f"shuttle_{s.name}" for s in shuttles]
    return TransportNetwork(
        osm, gtfs, baseline.date, names=names, access_services=services, base=baseline,
        progress=False,
    )  # fmt: skip


# ----------------------------------------------------------------------------- comparing
#: Columns of a comparison whose change from the baseline is reported.
_MEASURES = (
    "residents_within_10_min",
    "residents_in_gap",
    "median_first_mile_min",
    "jobs_within_45_min_mean",
)


@dataclass(frozen=True)
class _Settings:
    """The parameters every scenario is measured with."""

    departure: object
    window: object
    start: str
    end: str
    max_headway_min: float
    threshold_min: float
    speed_walking: float
    speed_cycling: float
    cutoff_min: int
    first_mile_cap_min: float
    opportunities: str
    population: str
    engine: str
    client: object = None  # a Dask client routes the matrices (not a parameter to record)


def _first_mile_minutes(network, origins, settings_: _Settings, speed_walking: float):
    """Per origin: first-mile minutes to frequent transit, walking or by an access service."""
    from .access import first_mile
    from .engines.request import make_request
    from .feeds import frequent_stops

    result = first_mile(
        network, origins, start=settings_.start, end=settings_.end,
        max_headway_min=settings_.max_headway_min, threshold_min=settings_.threshold_min,
        speed_walking=speed_walking, speed_cycling=settings_.speed_cycling,
        population=settings_.population,
    )  # fmt: skip
    minutes = result["walk_min_frequent_stop"].to_numpy(dtype="float64")
    services = list(getattr(network, "access_services", []) or [])
    mode = pd.Series("walk", index=result.index, dtype=object)
    if services:
        frequent = set(
            frequent_stops(network.feed, settings_.start, settings_.end, settings_.max_headway_min)[
                "stop_id"
            ]
        )
        columns = network.stops["id"].isin(frequent).to_numpy()
        request = make_request(
            departure=settings_.departure, speed_walking=speed_walking,
            speed_cycling=settings_.speed_cycling,
            max_time=dt.timedelta(minutes=settings_.first_mile_cap_min),
        )  # fmt: skip
        for service in services:
            table = service.access_times(network, origins, request).to_dense()[:, columns]
            by_service = np.min(table, axis=1, initial=np.inf) / 60.0
            better = by_service < np.where(np.isnan(minutes), np.inf, minutes)
            minutes = np.where(better, by_service, minutes)
            mode[better] = service.kind
    result["first_mile_min"] = minutes
    result["first_mile_mode"] = mode.to_numpy()
    result["gap"] = ~(result["first_mile_min"] <= settings_.threshold_min)
    return result


def _jobs_within(network, origins, destinations, settings_: _Settings, speed_walking: float):
    """Per origin: opportunities reachable door to door within the cutoff.

    Trips are routed up to the cutoff's whole minute: R5 reports trips strictly below
    ``max_time``, so it is the cutoff plus one minute.
    """
    from .access import accessibility
    from .routing import travel_time_matrix

    ttm = travel_time_matrix(
        network, origins, destinations, departure=settings_.departure,
        departure_time_window=settings_.window, speed_walking=speed_walking,
        speed_cycling=settings_.speed_cycling,
        max_time=dt.timedelta(minutes=settings_.cutoff_min + 1), engine=settings_.engine,
        progress=False, client=settings_.client,
    )  # fmt: skip
    access = accessibility(
        ttm, destinations, opportunities=settings_.opportunities, measure="cumulative",
        cutoffs=(settings_.cutoff_min,), population=None, origins=origins,
    )  # fmt: skip
    column = f"{settings_.opportunities}_cumulative_{settings_.cutoff_min}min"
    by_id = pd.Series(access[column].to_numpy(), index=access["id"].to_numpy())
    return by_id.reindex(origins["id"].to_numpy()).to_numpy()


def _measure(network, origins, destinations, settings_: _Settings, speed_walking: float):
    """Per-origin table and its summary (the access-gap metrics of one network)."""
    from .access import gap_summary

    per_origin = _first_mile_minutes(network, origins, settings_, speed_walking)
    per_origin[f"jobs_cumulative_{settings_.cutoff_min}min"] = _jobs_within(
        network, origins, destinations, settings_, speed_walking
    )
    summary_input = per_origin.assign(walk_min_frequent_stop=per_origin["first_mile_min"])
    if settings_.cutoff_min != 45:
        summary_input["jobs_cumulative_45min"] = per_origin[
            f"jobs_cumulative_{settings_.cutoff_min}min"
        ]
    summary = gap_summary(summary_input).iloc[-1]
    return per_origin, {
        "residents": float(summary["residents"]),
        "residents_within_10_min": float(
            per_origin["population"][per_origin["first_mile_min"] <= settings_.threshold_min].sum()
        ),
        "residents_in_gap": float(summary["residents_in_gap"]),
        "median_first_mile_min": float(summary["median_walk_min_frequent_stop"]),
        "jobs_within_45_min_mean": float(summary["jobs_within_45_min_mean"]),
    }


def _capped(minutes: np.ndarray, cap: float) -> np.ndarray:
    return np.minimum(np.where(np.isnan(minutes), cap, minutes), cap)


def _costs_row(scenario: Scenario, economics: Economics) -> tuple[dict, list[dict]]:
    """Capital, operating and annualised cost of a scenario, and each intervention's."""
    items = []
    for item in scenario.interventions:
        costs = item.total_costs()
        items.append({
            "scenario": scenario.name, "intervention": item.name, "type": item.kind,
            "lead_time": item.lead_time, "owner_role": item.owner_role, "what": item.describe(),
            "where": item.where(), "capital_cost": costs.capital,
            "annual_operating_cost": costs.annual_operating, "life_years": costs.life_years,
            "annualised_cost": costs.annualised(economics.discount_rate),
            "cost_source": costs.source,
        })  # fmt: skip
    row = {
        "capital_cost": sum(i["capital_cost"] for i in items),
        "annual_operating_cost": sum(i["annual_operating_cost"] for i in items),
        "annualised_cost": sum(i["annualised_cost"] for i in items),
    }
    return row, items


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("nan")


def _scenario_row(scenario, network, base, origins, destinations, settings_, economics):
    """One comparison row: metrics, changes, time saved, costs, money (may raise)."""
    speed = scenario.speed_walking or settings_.speed_walking
    per_origin, summary = _measure(network, origins, destinations, settings_, speed)
    base_origin, base_summary = base
    row = dict(summary)
    for name in _MEASURES:
        row[f"{name}_change"] = summary[name] - base_summary[name]
    people = per_origin["population"].to_numpy(dtype="float64")
    was_gap, is_gap = base_origin["gap"].to_numpy(bool), per_origin["gap"].to_numpy(bool)
    row["gap_residents_closed"] = float(people[was_gap & ~is_gap].sum())
    cap = settings_.first_mile_cap_min
    saved = np.maximum(
        _capped(base_origin["first_mile_min"].to_numpy(float), cap)
        - _capped(per_origin["first_mile_min"].to_numpy(float), cap),
        0.0,
    )
    row["residents_affected"] = float(people[saved > 0].sum())
    row["time_saved_person_min_per_weekday"] = float(
        (people * saved).sum() * economics.trips_per_resident_per_weekday
    )
    jobs = f"jobs_cumulative_{settings_.cutoff_min}min"
    gained = np.nan_to_num(per_origin[jobs].to_numpy(float) - base_origin[jobs].to_numpy(float))
    row["added_job_access"] = float((people * gained).sum())
    costs, items = _costs_row(scenario, economics)
    row.update(costs)
    row["cost_per_new_resident_served"] = _ratio(
        costs["annualised_cost"], row["gap_residents_closed"]
    )
    row["cost_per_added_job_access"] = _ratio(costs["annualised_cost"], row["added_job_access"])
    row["annual_time_savings_value"] = economics.annual_value(
        row["time_saved_person_min_per_weekday"]
    )
    row["benefit_cost_ratio"] = _ratio(row["annual_time_savings_value"], costs["annualised_cost"])
    return row, items


def compare_scenarios(
    baseline_network,
    scenarios: list[Scenario],
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame | None = None,
    *,
    economics: Economics,
    departure: dt.datetime,
    departure_time_window: dt.timedelta = dt.timedelta(minutes=60),  # noqa: B008
    start: str | None = None,
    end: str | None = None,
    max_headway_min: float = 15,
    threshold_min: float = 10,
    speed_walking: float = 3.6,
    speed_cycling: float = 12.0,
    cutoff_min: int = 45,
    first_mile_cap_min: float = 30,
    opportunities: str = "jobs",
    population: str = "population",
    engine: str = "embedded",
    workdir: str | os.PathLike | None = None,
    client=None,
) -> pd.DataFrame:
    """Measure every scenario with the baseline's access metrics, in minutes and money.

    Parameters
    ----------
    baseline_network : TransportNetwork
    scenarios : list of Scenario
    origins : GeoDataFrame
        Homes with ``id`` and ``population`` (a sample is fine).
    destinations : GeoDataFrame, optional
        With the opportunity column (default: ``origins``).
    economics : Economics
        Value of time, trips per resident, discount rate (with sources).
    departure : datetime.datetime
        Start of the departure window (on the network's service date).
    departure_time_window : datetime.timedelta
        Default 60 minutes.
    start, end : str, optional
        Window in which stops are frequent (default: the departure window).
    max_headway_min, threshold_min : float
        Frequent transit and the walking threshold of the gap (15 and 10 minutes).
    speed_walking, speed_cycling : float
        km/h; a WalkingLinks ``speed_walking`` overrides walking in its scenario.
    cutoff_min : int
        Door-to-door cutoff of the opportunities measure (default 45 minutes).
    first_mile_cap_min : float
        First-mile minutes beyond reach count as this much in the time saved (30).
    opportunities, population : str
        Columns of destinations and origins.
    engine : {"embedded", "auto", "r5py"}
        Routing engine, the same for the baseline and every scenario. Access services
        are routed by the embedded engine only, so ``"auto"`` means ``"embedded"`` when
        a scenario has one (with ``"r5py"``, such a scenario fails in its row).
    workdir : path-like, optional
        Where scenario files are written (see :func:`scenario_network`).
    client : dask.distributed.Client, optional
        Route every network's matrix on this Dask cluster (embedded engine); the figures
        are identical to the in-process ones. A scenario with access services
        (bike-share, microtransit, scooters) computes its street tables on this
        process, the others on the workers (see :func:`~transitmile.travel_time_matrix`).
        Needs ``pip install 'transitmile[dask]'``.

    Returns
    -------
    DataFrame
        One row per scenario after a ``"baseline"`` row: ``scenario, notes, error``,
        ``residents``, ``residents_within_10_min``, ``residents_in_gap``,
        ``median_first_mile_min``, ``jobs_within_45_min_mean``, each with a
        ``_change`` from the baseline; ``gap_residents_closed``, ``residents_affected``,
        ``time_saved_person_min_per_weekday`` (population x trips per resident x
        minutes saved on the first mile, capped at ``first_mile_cap_min``),
        ``added_job_access`` (sum of population x added opportunities),
        ``capital_cost``, ``annual_operating_cost``, ``annualised_cost`` (capital over
        its life at the discount rate, plus operations), ``cost_per_new_resident_served``,
        ``cost_per_added_job_access``, ``annual_time_savings_value`` and
        ``benefit_cost_ratio``. A scenario that fails has its error in ``error`` and
        NaN figures; the others go on. ``warnings`` names bike-share stations beyond
        the street network (they carry no trips). ``attrs`` holds the economics (with sources),
        the parameters and each intervention's costs (``attrs["interventions"]``).
    """
    from .distributed import check_client
    from .routing import check_points

    if engine == "auto" and any(s.access_services for s in scenarios):
        engine = "embedded"  # one engine for all: R5 has no access services
    if check_client(client) is not None and engine == "r5py":
        raise RoutingError(
            "parameter 'client' runs the embedded engine's chunks; engine='r5py' cannot use "
            "it: pass engine='embedded', or client=None"
        )
    origins = check_points(origins, "origins")
    destinations = origins if destinations is None else check_points(destinations, "destinations")
    window_end = departure + departure_time_window
    settings_ = _Settings(
        departure, departure_time_window, start or departure.strftime("%H:%M"),
        end or window_end.strftime("%H:%M"), max_headway_min, threshold_min, speed_walking,
        speed_cycling, int(cutoff_min), first_mile_cap_min, opportunities, population, engine,
        client,
    )  # fmt: skip
    base = _measure(baseline_network, origins, destinations, settings_, speed_walking)
    rows = [{"scenario": "baseline", "notes": "", "error": None, **base[1]}]
    interventions = []
    for scenario in scenarios:
        row = {"scenario": scenario.name, "notes": scenario.notes, "error": None}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", StationsOffNetworkWarning)
            try:
                network = scenario_network(baseline_network, scenario, workdir)
                figures, items = _scenario_row(
                    scenario, network, base, origins, destinations, settings_, economics
                )
                row.update(figures)
                interventions.extend(items)
            except Exception as exc:  # one broken scenario must not lose the others
                log.warning("scenario %r failed: %s", scenario.name, exc)
                row["error"] = f"{type(exc).__name__}: {exc}"
        reported = {str(w.message) for w in caught if w.category is StationsOffNetworkWarning}
        row["warnings"] = "; ".join(sorted(reported)) or None
        for warning in caught:  # everything else goes on to the caller as it came
            if warning.category is not StationsOffNetworkWarning:
                warnings.warn_explicit(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs.update(
        economics=dataclasses.asdict(economics),
        parameters={
            f.name: str(getattr(settings_, f.name))
            for f in dataclasses.fields(settings_)
            if f.name != "client"
        },
        interventions=interventions,
        network=baseline_network.provenance,
    )
    return table


# ------------------------------------------------------------------------------ the plan
#: Phase of each lead time in the plan, in delivery order.
PHASES = {
    "quick_win": "90 days",
    "medium": "3-12 months",
    "capital": "1-3 years",
}


def implementation_plan(comparison: pd.DataFrame) -> pd.DataFrame:
    """Rank the interventions and lay out a 90-day checklist and what follows it.

    Parameters
    ----------
    comparison : DataFrame
        The result of :func:`compare_scenarios` (its ``attrs["interventions"]`` too).

    Returns
    -------
    DataFrame
        One row per intervention of every scenario that ran, ordered by phase
        (``"90 days"``: quick wins such as a bike-share or microtransit pilot; then
        ``"3-12 months"``: a shuttle; then ``"1-3 years"``: new links and bridges) and,
        within a phase, by ``rank``: the scenario's benefit-cost ratio (highest first),
        then its cost per newly served resident (lowest first). Columns: ``phase, rank,
        scenario, intervention, type, what, where, capital_cost, annualised_cost,
        expected_effect, owner_role, benefit_cost_ratio, cost_per_new_resident_served,
        cost_source``. Failed scenarios are left out.

    Raises
    ------
    StudyError
        Not a comparison table.
    """
    items = comparison.attrs.get("interventions") if isinstance(comparison, pd.DataFrame) else None
    if items is None or "scenario" not in getattr(comparison, "columns", []):
        raise StudyError(
            "implementation_plan needs the table compare_scenarios returns (with its attrs)"
        )
    ran = comparison[(comparison["scenario"] != "baseline") & comparison["error"].isna()]
    ranked = ran.assign(
        _bcr=ran["benefit_cost_ratio"].fillna(-np.inf),
        _cost=ran["cost_per_new_resident_served"].fillna(np.inf),
    ).sort_values(["_bcr", "_cost"], ascending=[False, True], kind="stable")
    rank = {name: k + 1 for k, name in enumerate(ranked["scenario"])}
    figures = ran.set_index("scenario")
    rows = []
    for item in items:
        if item["scenario"] not in rank:
            continue
        row = figures.loc[item["scenario"]]
        rows.append({
            "phase": PHASES[item["lead_time"]], "rank": rank[item["scenario"]],
            "scenario": item["scenario"], "intervention": item["intervention"],
            "type": item["type"], "what": item["what"], "where": item["where"],
            "capital_cost": item["capital_cost"], "annualised_cost": item["annualised_cost"],
            "expected_effect": _effect(row), "owner_role": item["owner_role"],
            "benefit_cost_ratio": row["benefit_cost_ratio"],
            "cost_per_new_resident_served": row["cost_per_new_resident_served"],
            "cost_source": item["cost_source"],
        })  # fmt: skip
    plan = pd.DataFrame(rows, columns=list(rows[0]) if rows else ["phase", "rank"])
    if len(plan):
        order = {phase: k for k, phase in enumerate(PHASES.values())}
        plan = plan.sort_values(
            ["phase", "rank"], key=lambda c: c.map(order) if c.name == "phase" else c, kind="stable"
        )
    return plan.reset_index(drop=True)


def _effect(row: pd.Series) -> str:
    """Write the scenario's expected effect in one line."""
    return (
        f"{row['gap_residents_closed']:,.0f} residents newly within reach of frequent transit; "
        f"{row['time_saved_person_min_per_weekday']:,.0f} person-minutes saved per weekday; "
        f"{row['jobs_within_45_min_mean_change']:+,.0f} jobs within 45 min (mean per resident)"
    )
