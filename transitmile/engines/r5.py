"""The r5py engine: the same study on R5 (Conveyal) wherever Java 21 and an R5 jar are usable.

This module is the adapter: it translates a request into r5py's arguments
(:func:`r5py_arguments`), chooses the engine (:func:`choose_engine`) and runs R5
(:func:`run_r5py`). Whether R5 can run here (Java, the jar) is decided in
:mod:`transitmile.engines.r5_environment`, without importing r5py; its public names
are re-exported here. r5py is imported inside :func:`run_r5py` only, after that
decision.

How transitmile's settings reach r5py: r5py reads its options with
configargparse from the command line (``sys.argv``) and from ``/etc/r5py.yml`` /
``~/.config/r5py.yml``, once, when ``r5py`` is imported (the class path and the
JVM heap are module constants). :func:`run_r5py` therefore imports r5py with a
temporary ``sys.argv`` holding ``--r5-classpath`` (``settings.r5_classpath``,
``TRANSITMILE_R5_CLASSPATH``) and ``--max-memory`` (``settings.r5_max_memory``),
which also keeps a notebook's or pytest's own arguments (``pytest -m r5``!) away
from r5py's parser.

References
----------
Conveyal R5, https://github.com/conveyal/r5; r5py, Fink et al., https://r5py.readthedocs.io
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import logging
import os
import re
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import settings
from .._progress import progress_bar
from ..errors import EngineUnavailableError, RoutingError, show_value
from .frame import travel_time_columns
from .r5_environment import (
    HOW_TO_FIX,
    R5Status,
    find_r5_jar,
    r5_status,
    r5py_cache_dir,
    r5py_config_files,
)
from .request import ENGINES, TravelTimeRequest, check_departure, check_engine

__all__ = [
    "R5Status",
    "r5_status",
    "find_r5_jar",
    "r5py_cache_dir",
    "r5py_config_files",
    "r5py_arguments",
    "unsupported_reasons",
    "choose_engine",
    "engine_version",
    "run_r5py",
    "tidy_r5py_frame",
    "ENGINES",
]

log = logging.getLogger("transitmile")

#: R5's boarding slack is a constant (FastRaptorWorker.BOARD_SLACK_SECONDS); r5py cannot change it.
R5_BOARD_SLACK_S = 60

#: R5 computes at most five percentiles per request.
R5_MAX_PERCENTILES = 5

#: Request options (``make_request(**options)``) that r5py understands, passed through.
R5PY_OPTIONS = ("max_bicycle_traffic_stress",)

#: Origins per r5py.TravelTimeMatrix call, so that long runs show progress.
ORIGINS_PER_CALL = 100

# ---------------------------------------------------------------- request -> r5py arguments


def _access_service_names(network: Any) -> list[str]:
    services = list(getattr(network, "access_services", None) or [])
    return [str(getattr(s, "name", None) or type(s).__name__) for s in services]


def unsupported_reasons(network: Any, request: TravelTimeRequest) -> list[str]:
    """List what in this network or request R5 cannot route as asked (empty when all is fine).

    R5 models walking, cycling and GTFS transit. Access legs that the embedded
    engine routes natively (bike-share docks, microtransit zones, scooters) are
    not part of R5, nor is a boarding slack other than R5's fixed 60 s.
    """
    reasons = []
    names = _access_service_names(network)
    if names:
        reasons.append(f"access services {names} are not supported by r5py, use engine='embedded'")
    if request.min_transfer_time_s != R5_BOARD_SLACK_S:
        reasons.append(
            f"min_transfer_time of {request.min_transfer_time_s} s is not supported by r5py "
            f"(R5's boarding slack is fixed at {R5_BOARD_SLACK_S} s), use engine='embedded'"
        )
    if len(request.percentiles) > R5_MAX_PERCENTILES:
        reasons.append(
            f"R5 computes at most {R5_MAX_PERCENTILES} percentiles, got {list(request.percentiles)}"
        )
    unknown = sorted(k for k in request.options if k not in R5PY_OPTIONS)
    if unknown:
        reasons.append(f"options {unknown} have no r5py equivalent, use engine='embedded'")
    return reasons


def _check_max_memory(value: str) -> str:
    # r5py's own rule (util/memory_footprint.py): a number with one unit of % K M G T ...
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?[%KMGTPEZY]?", str(value)):
        raise RoutingError(
            "r5 max_memory (settings.r5_max_memory, TRANSITMILE_R5_MAX_MEMORY) must look like "
            f"'80%', '8G' or '12000M', got {show_value(value)}"
        )
    return str(value)


def r5py_arguments(
    network: Any,
    request: TravelTimeRequest,
    *,
    classpath: str | os.PathLike | None = None,
    max_memory: str | None = None,
) -> dict[str, Any]:
    """Translate a transitmile request into r5py's arguments (plain Python values only).

    Parameters
    ----------
    network : transitmile.TransportNetwork
        Uses ``osm_pbf``, ``gtfs`` (incl. scenario feeds) and ``date``.
    request : TravelTimeRequest
    classpath : str or path-like, optional
        R5 jar (default: ``settings.r5_classpath``).
    max_memory : str, optional
        JVM heap (default: ``settings.r5_max_memory``), r5py's ``--max-memory`` format.

    Returns
    -------
    dict
        ``transport_network``: kwargs of ``r5py.TransportNetwork``;
        ``travel_time_matrix``: kwargs of ``r5py.TravelTimeMatrix`` (modes as
        r5py.TransportMode names, durations as timedelta, percentiles as a list);
        ``argv``: r5py's command-line options set while importing it.

    Raises
    ------
    RoutingError
        Departure on another day than the network's service date, or a bad max_memory.
    EngineUnavailableError
        Something R5 cannot model (see :func:`unsupported_reasons`).
    """
    reasons = unsupported_reasons(network, request)
    if reasons:
        raise EngineUnavailableError("; ".join(reasons))
    check_departure(request, getattr(network, "date", None))

    def seconds(value: int) -> dt.timedelta:
        return dt.timedelta(seconds=int(value))

    ttm = {
        "departure": request.departure,
        "departure_time_window": seconds(request.departure_time_window_s),
        # a list: r5py names the column travel_time only when percentiles == [50]
        "percentiles": [int(p) for p in request.percentiles],
        "transport_modes": list(request.transport_modes),
        # always explicit: r5py 1.1.0 overwrote access modes with transport modes (issue 525)
        "access_modes": list(request.access_modes),
        "egress_modes": list(request.egress_modes),
        "max_time": seconds(request.max_time_s),
        "max_time_walking": seconds(request.max_time_walking_s),
        "max_time_cycling": seconds(request.max_time_cycling_s),
        "speed_walking": float(request.speed_walking),
        "speed_cycling": float(request.speed_cycling),
        "max_public_transport_rides": int(request.max_public_transport_rides),
        # R5 links points to streets itself; snapping would drop unlinked points from the frame
        "snap_to_network": False,
    }
    ttm.update({k: request.options[k] for k in R5PY_OPTIONS if k in request.options})
    jar = classpath if classpath is not None else settings.r5_classpath
    memory = _check_max_memory(max_memory if max_memory is not None else settings.r5_max_memory)
    argv = ["--max-memory", memory]
    if jar:
        argv += ["--r5-classpath", str(jar)]
    return {
        "transport_network": {
            "osm_pbf": str(network.osm_pbf),
            "gtfs": [str(p) for p in network.gtfs],
        },
        "travel_time_matrix": ttm,
        "argv": argv,
    }


# ---------------------------------------------------------------- engine choice


def choose_engine(engine: str, network: Any, request: TravelTimeRequest) -> tuple[str, str]:
    """Pick the engine that will run a request, and say why.

    Parameters
    ----------
    engine : {"auto", "embedded", "r5py"}
        ``"auto"`` takes r5py where it is usable and the request is within what
        R5 models, else the embedded engine (logged once on the
        ``"transitmile"`` logger); ``"r5py"`` insists.
    network : transitmile.TransportNetwork
    request : TravelTimeRequest

    Returns
    -------
    name : str
        ``"embedded"`` or ``"r5py"``.
    reason : str

    Raises
    ------
    RoutingError
        Unknown engine name.
    EngineUnavailableError
        ``engine="r5py"`` where R5 cannot run, or for something R5 does not model.
    """
    check_engine(engine)
    if engine == "embedded":
        return "embedded", "engine='embedded' requested"
    reasons = unsupported_reasons(network, request)
    if reasons and engine == "r5py":
        raise EngineUnavailableError("engine='r5py': " + "; ".join(reasons))
    if reasons:
        reason = "; ".join(reasons)
    else:
        status = _status_for_environment(_environment_key())
        if status.available:
            return "r5py", status.reason
        if engine == "r5py":
            raise EngineUnavailableError(
                f"engine='r5py' cannot run here: {status.reason}. {HOW_TO_FIX}"
            )
        reason = status.reason
    log.info("routing with the embedded engine: r5py not used because %s", reason)
    return "embedded", reason


_STATUS_ENV = (
    "JAVA_HOME",
    "CONDA_PREFIX",
    "PATH",
    "HOME",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "LOCALAPPDATA",
    "APPDATA",
)


def _environment_key() -> tuple:
    return (settings.r5_classpath, *(os.environ.get(name) for name in _STATUS_ENV))


@cache
def _status_for_environment(key: tuple) -> R5Status:
    # one probe of Java per environment and process: scenario runs call choose_engine often
    return r5_status()


def engine_version(status: R5Status | None = None) -> str:
    """Versions for run records: r5py, the R5 jar and Java, e.g. ``"r5py 1.1.7; R5 r5-v7.5.1-r5py-all.jar; Java 21.0.2"``."""
    status = status if status is not None else r5_status()
    try:
        r5py_version = importlib.metadata.version("r5py")
    except importlib.metadata.PackageNotFoundError:
        r5py_version = "not installed"
    jar = status.classpath.name if status.classpath is not None else "no jar"
    return f"r5py {r5py_version}; R5 {jar}; Java {status.java_version or 'not found'}"


# ---------------------------------------------------------------- running R5


@contextlib.contextmanager
def _r5py_command_line(argv: list[str]) -> Iterator[None]:
    """Let r5py's configargparse see only transitmile's options while it is imported."""
    saved = sys.argv
    sys.argv = [saved[0] if saved else "transitmile", *argv]
    try:
        yield
    finally:
        sys.argv = saved


def _import_r5py(status: R5Status, argv: list[str]):
    if "r5py" in sys.modules:
        return sys.modules["r5py"]  # already configured by whoever imported it first
    if status.java_home is not None:
        # jpype looks at JAVA_HOME before /usr/bin/java; make it start the Java we checked.
        os.environ["JAVA_HOME"] = str(status.java_home)
    with _r5py_command_line(argv):
        import r5py
    return r5py


_NETWORKS: dict[tuple, Any] = {}


def _files_key(paths: list[str]) -> tuple:
    out = []
    for path in paths:
        stat = Path(path).stat()
        out.append((str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns))
    return tuple(out)


def _transport_network(r5py: Any, osm_pbf: str, gtfs: list[str]) -> Any:
    """One r5py.TransportNetwork per set of input files for the process (building takes a while)."""
    key = _files_key([osm_pbf, *gtfs])
    if key not in _NETWORKS:
        _NETWORKS[key] = r5py.TransportNetwork(osm_pbf, gtfs)
    return _NETWORKS[key]


def tidy_r5py_frame(
    raw: pd.DataFrame | None,
    origin_ids: pd.Series,
    destination_ids: pd.Series,
    percentiles: list[int],
) -> pd.DataFrame:
    """Shape r5py's output like the embedded engine's: plain frame, id dtypes kept, float minutes.

    Parameters
    ----------
    raw : DataFrame or None
        Concatenated ``r5py.TravelTimeMatrix`` results (from_id, to_id, time columns);
        None for no origins.
    origin_ids, destination_ids : Series
        The callers' id columns; their dtypes are restored on from_id / to_id.
    percentiles : list of int

    Returns
    -------
    DataFrame
        ``from_id, to_id, travel_time`` (or ``travel_time_p{p}`` per percentile
        unless only the median was asked), times float64 minutes, NaN unreachable.
    """
    names = travel_time_columns(percentiles)
    if raw is None:
        raw = pd.DataFrame({c: [] for c in ["from_id", "to_id", *names]})
    missing = [c for c in ["from_id", "to_id", *names] if c not in raw.columns]
    if missing:
        raise EngineUnavailableError(
            f"r5py returned no column(s) {missing}; got {list(raw.columns)}"
        )
    out = pd.DataFrame(
        {
            "from_id": pd.Series(np.asarray(raw["from_id"]), dtype=origin_ids.dtype),
            "to_id": pd.Series(np.asarray(raw["to_id"]), dtype=destination_ids.dtype),
        }
    )
    for name in names:
        out[name] = pd.to_numeric(pd.Series(np.asarray(raw[name])), errors="coerce").astype(
            "float64"
        )
    return out


def run_r5py(
    network: Any,
    origins: Any,
    destinations: Any,
    request: TravelTimeRequest,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Travel time matrix computed by R5 through r5py, shaped like the embedded engine's.

    Parameters
    ----------
    network : transitmile.TransportNetwork
        ``osm_pbf`` (edited PBF in a scenario), ``gtfs`` (incl. scenario feeds), ``date``.
    origins, destinations : GeoDataFrame
        ``id`` column and point geometry with a CRS; ``destinations=None`` uses the origins.
    request : TravelTimeRequest
    progress : bool, optional
        Progress bar over batches of origins (default ``settings.progress``).

    Returns
    -------
    DataFrame
        ``from_id, to_id, travel_time`` (or ``travel_time_pNN``) in minutes, NaN
        where unreachable; ``attrs["engine"] == "r5py"``, ``attrs["engine_version"]``.

    Raises
    ------
    EngineUnavailableError
        R5 cannot run here, or the network/request holds something R5 does not model.
    """
    destinations = origins if destinations is None else destinations
    for name, points in (("origins", origins), ("destinations", destinations)):
        if "id" not in getattr(points, "columns", ()) or getattr(points, "crs", None) is None:
            raise RoutingError(f"{name} must be a GeoDataFrame with an 'id' column and a CRS")
    args = r5py_arguments(network, request)
    status = r5_status()
    if not status.available:
        raise EngineUnavailableError(
            f"engine='r5py' cannot run here: {status.reason}. {HOW_TO_FIX}"
        )
    r5py = _import_r5py(status, args["argv"])
    transport_network = _transport_network(r5py, **args["transport_network"])
    kwargs = dict(args["travel_time_matrix"])
    for key in ("transport_modes", "access_modes", "egress_modes"):
        kwargs[key] = [r5py.TransportMode(mode) for mode in kwargs[key]]
    targets = destinations[["id", "geometry"]]
    parts = []
    starts = range(0, len(origins), ORIGINS_PER_CALL)
    for start in progress_bar(starts, progress=progress, desc="R5 travel times", unit="batch"):
        batch = origins.iloc[start : start + ORIGINS_PER_CALL][["id", "geometry"]]
        ttm = r5py.TravelTimeMatrix(
            transport_network, origins=batch, destinations=targets, **kwargs
        )
        parts.append(pd.DataFrame(ttm))
    out = tidy_r5py_frame(
        pd.concat(parts, ignore_index=True) if parts else None,
        origins["id"],
        destinations["id"],
        kwargs["percentiles"],
    )
    out.attrs["engine"] = "r5py"
    out.attrs["engine_version"] = engine_version(status)
    return out
