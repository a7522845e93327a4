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
import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import shapely
import yaml

from . import settings
from .data import file_sha256
from .errors import StudyError, TransitmileError, show_value
from .interventions import (
    INTERVENTION_TYPES,
    AccessService,
    Costs,
    Economics,
    Intervention,
    Shuttle,
    WalkingLinks,
    canonical_json,
)

__all__ = [
    "Scenario",
    "read_scenarios",
    "read_economics",
    "parse_scenarios",
    "parse_economics",
    "scenario_network",
]

log = logging.getLogger("transitmile")

#: The repository's data folder: GeoJSON files of a study may live here.
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

#: Fields that hold a geometry (inline GeoJSON or a GeoJSON file), per type.
_GEOMETRY_FIELDS = {"bike_share": "stations", "microtransit": "zone", "scooters": "area",
                    "walking_links": "links"}  # fmt: skip
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
    def access_services(self) -> list[AccessService]:
        """The interventions the engine routes as access/egress services."""
        return [i for i in self.interventions if isinstance(i, AccessService)]

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
            built = cls.from_gbfs(gbfs, **{k: v for k, v in values.items() if k != geometry_field})
            return _with_costs(built, values.get("costs"), where)
        if geometry_field and isinstance(values.get(geometry_field), str):
            values[geometry_field] = _read_geojson(
                values[geometry_field], base_dir, where, geometry_field, kind
            )
        if isinstance(values.get("costs"), Mapping):
            values["costs"] = _construct(Costs, values["costs"], f"{where}: costs")
        return _construct(cls, values, where, extra=_EXTRA_KEYS.get(kind, set()))
    except StudyError as exc:
        message = str(exc)
        raise StudyError(message if message.startswith(owner) else f"{owner}: {message}") from None
    except TransitmileError as exc:  # a GBFS file that cannot be read
        raise StudyError(f"{where}: {exc}") from exc


def _with_costs(built: Intervention, costs, where: str) -> Intervention:
    if isinstance(costs, Mapping):
        built.costs = _construct(Costs, costs, f"{where}: costs")
    return built


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
    from those files is cached as any other, by the files' hashes and the
    interventions' canonical JSON.

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

    links = [i for i in scenario.interventions if isinstance(i, WalkingLinks) and len(i.links)]
    shuttles = [i for i in scenario.interventions if isinstance(i, Shuttle)]
    services = scenario.access_services
    for service in services:
        if hasattr(service, "check_hubs"):
            service.check_hubs(baseline)
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
        osm, gtfs, baseline.date, names=names, access_services=services, progress=False
    )
