"""TransportNetwork: streets + transit for one service date, built once, cached on disk.

Everything here depends only on the input files (OSM extract, GTFS feeds, date)
and a few settings, so it is cached under ``settings.cache_dir / "networks"``,
keyed by the files' sha256. What depends on a request (origins, speeds, time
limits) is computed per call in :mod:`transitmile.routing`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import pickle
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np

from . import settings
from .conventions import BICYCLE, WALK, street_mode
from .data import file_sha256, path_sha256
from .engines.access import AccessService, check_access_services
from .errors import NetworkError, show_value
from .feeds import Feed, load_feeds
from .sparse import SparseTimes, indptr_from_rows
from .streets import Snapped, StreetGraph, build_street_graph, snap_points, street_travel_times

__all__ = ["TransportNetwork"]

log = logging.getLogger("transitmile")

#: Bumped whenever the cached content changes shape, so old caches are rebuilt.
CACHE_FORMAT = (
    3  # 2: feed notices in provenance; 3: street modes "WALK" / "BICYCLE", sparse.SparseTimes
)

#: Transfers are stored as walking distances (metres) up to this distance, and
#: filtered per request by time at the requested walking speed.
TRANSFER_SEARCH_M = 2500.0


@dataclass
class _Built:
    """What a build produces and the cache stores."""

    feed: Feed
    walk: StreetGraph
    bike: StreetGraph
    stops: gpd.GeoDataFrame
    stops_walk: Snapped
    stops_bike: Snapped
    transfer_m: SparseTimes  # stop x stop walking distance, metres
    timetable: object
    build_seconds: float
    provenance: dict = field(default_factory=dict)


def _as_paths(gtfs) -> list[Path]:
    """GTFS argument as a list of absolute paths."""
    if isinstance(gtfs, (str, os.PathLike)):
        gtfs = [gtfs]
    return [Path(p).expanduser().resolve() for p in gtfs]


class TransportNetwork:
    """Street graphs (walk, bike) and the transit timetable of one service date.

    Parameters
    ----------
    osm_pbf : str or Path
        OpenStreetMap extract (.osm.pbf).
    gtfs : str, Path or list of them
        GTFS feeds (zip or folder); several feeds are merged.
    date : datetime.date, "YYYY-MM-DD" or "busiest"
        Service date routed on.
    names : list of str, optional
        Feed names used as id prefixes when several feeds are merged.
    access_services : list of AccessService, optional
        First/last-mile services of scenario interventions (bike-share, scooters,
        microtransit): :class:`transitmile.engines.access.AccessService` objects whose
        access and egress times the embedded engine combines with the street legs
        (shortest per point and stop). Not part of the cached build. The r5py engine
        refuses a network that carries any.
    base : TransportNetwork, optional
        A network already built (a scenario's baseline) whose parts this build
        reuses where its inputs are the same: the street graphs when the OSM file is,
        the feed and timetable when the GTFS feeds, names and date are. The result is
        the same as a build from scratch; only the time differs.
    cache : bool
        Read and write the on-disk cache (default True).
    progress : bool, optional
        Show progress bars.

    Notes
    -----
    The build is cached under ``settings.cache_dir / "networks"`` keyed by the
    sha256 of every input file, the date and the transitmile cache format, so a
    second construction of the same network only reads one file.
    """

    def __init__(
        self,
        osm_pbf,
        gtfs,
        date: dt.date | str = "busiest",
        *,
        names: list[str] | None = None,
        access_services: list[AccessService] | None = None,
        base: TransportNetwork | None = None,
        cache: bool = True,
        progress: bool | None = None,
    ):
        self.osm_pbf = Path(osm_pbf).expanduser().resolve()
        self.gtfs = _as_paths(gtfs)
        for path in [self.osm_pbf, *self.gtfs]:
            if not path.exists():
                raise NetworkError(f"input file {str(path)!r} does not exist")
        if self.osm_pbf.is_dir() or not str(self.osm_pbf).endswith(".pbf"):
            raise NetworkError(
                f"osm_pbf must be an OpenStreetMap .pbf file, got {show_value(str(self.osm_pbf))}"
            )
        self.names = names
        self.access_services = check_access_services(access_services)
        self._requested_date = date
        self._progress = progress
        self._base = base
        started = time.perf_counter()
        self._built, self.cache_hit = self._load_or_build(cache)
        self.load_seconds = time.perf_counter() - started

    # ----------------------------------------------------------------- build
    def _cache_key(self) -> str:
        """Hash of everything the build depends on."""
        parts = {
            "format": CACHE_FORMAT,
            "osm": file_sha256(self.osm_pbf),
            "gtfs": [path_sha256(p) for p in self.gtfs],
            "names": self.names,
            "date": str(self._requested_date),
            "transfer_search_m": TRANSFER_SEARCH_M,
            "snap_radius_m": settings.snap_radius_m,
        }
        if self.access_services:  # scenario interventions: their canonical JSON
            specs = [getattr(s, "spec", lambda s=s: repr(s))() for s in self.access_services]
            parts["interventions"] = json.dumps(specs, sort_keys=True, default=str)
        text = json.dumps(parts, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def _load_or_build(self, cache: bool) -> tuple[_Built, bool]:
        """Read the cached build if readable, else build anew (and write the cache)."""
        key = self._cache_key()
        path = settings.cache_dir / "networks" / f"{key}.pkl"
        self.cache_path = path
        if cache and path.is_file():
            try:
                with open(path, "rb") as handle:
                    return pickle.load(handle), True
            except Exception as exc:  # a stale or truncated cache is rebuilt, never trusted
                log.warning("ignoring unreadable network cache %s (%s)", path, exc)
        built = self._build(key)
        if cache:
            _atomic_pickle(built, path)
        return built, False

    def _build(self, key: str) -> _Built:
        """Load the feeds, build both street graphs, snap stops, compile the timetable."""
        from .engines.timetable import compile_timetable

        started = time.perf_counter()
        same_streets, same_feeds = self._same_as_base()
        base = self._base
        feed = base.feed if same_feeds else load_feeds(
            self.gtfs, date=self._requested_date, names=self.names, progress=self._progress
        )  # fmt: skip
        walk = base.walk if same_streets else build_street_graph(
            self.osm_pbf, mode=WALK, progress=self._progress
        )  # fmt: skip
        bike = base.bike if same_streets else build_street_graph(
            self.osm_pbf, mode=BICYCLE, progress=self._progress
        )  # fmt: skip
        stops = gpd.GeoDataFrame(
            {"id": feed.stops["stop_id"].to_numpy()},
            geometry=gpd.points_from_xy(feed.stops["stop_lon"], feed.stops["stop_lat"]),
            crs="EPSG:4326",
        )
        stops_walk = _snap_stops(walk, stops)
        stops_bike = _snap_stops(bike, stops)
        # 3.6 km/h is one metre per second: these "seconds" are walking metres.
        transfer_m = street_travel_times(
            walk, stops_walk, stops_walk, speed_kmh=3.6, max_time_s=TRANSFER_SEARCH_M
        )
        timetable = base.timetable if same_feeds else compile_timetable(feed, list(stops["id"]))
        provenance = {
            "cache_key": key,
            "service_date": feed.service_date.isoformat(),
            "osm_pbf": {"path": str(self.osm_pbf), "sha256": file_sha256(self.osm_pbf)},
            "gtfs": [
                {
                    "name": s.name,
                    "path": str(s.path),
                    "sha256": s.sha256,
                    "notices": s.notice_counts,
                }
                for s in feed.sources
            ],
            "stops": int(len(stops)),
            "stops_on_street_network": int(stops_walk.snapped.sum()),
        }
        return _Built(
            feed=feed,
            walk=walk,
            bike=bike,
            stops=stops,
            stops_walk=stops_walk,
            stops_bike=stops_bike,
            transfer_m=transfer_m,
            timetable=timetable,
            build_seconds=time.perf_counter() - started,
            provenance=provenance,
        )

    def _same_as_base(self) -> tuple[bool, bool]:
        """Whether ``base`` was built from the same OSM file, and from the same feeds."""
        base = self._base
        if base is None:
            return False, False
        streets = file_sha256(base.osm_pbf) == file_sha256(self.osm_pbf)
        feeds = (
            [path_sha256(p) for p in base.gtfs] == [path_sha256(p) for p in self.gtfs]
            and base.names == self.names
            and str(base._requested_date) == str(self._requested_date)
        )
        return streets, feeds

    # ------------------------------------------------------------ accessors
    @property
    def feed(self) -> Feed:
        """The merged GTFS feed of the service date."""
        return self._built.feed

    @property
    def date(self) -> dt.date:
        """The service date routed on."""
        return self._built.feed.service_date

    @property
    def walk(self) -> StreetGraph:
        """The walking street graph (mode ``"WALK"``)."""
        return self._built.walk

    @property
    def bike(self) -> StreetGraph:
        """The cycling street graph (mode ``"BICYCLE"``)."""
        return self._built.bike

    @property
    def stops(self) -> gpd.GeoDataFrame:
        """Every stop of the feed: ``id`` and Point geometry (EPSG:4326), timetable order."""
        return self._built.stops

    @property
    def timetable(self):
        """The compiled :class:`~transitmile.engines.timetable.Timetable` of the service date."""
        return self._built.timetable

    @property
    def provenance(self) -> dict:
        """Where this network came from: file hashes, date, cache key."""
        return dict(self._built.provenance)

    def street_graph(self, mode: str) -> StreetGraph:
        """Give the street graph of a mode.

        Parameters
        ----------
        mode : {"WALK", "BICYCLE"}
            Street mode (``"walk"`` / ``"bike"`` accepted).

        Returns
        -------
        StreetGraph
            :attr:`walk` or :attr:`bike`.
        """
        return self.walk if street_mode(mode, NetworkError) == WALK else self.bike

    def snapped_stops(self, mode: str) -> Snapped:
        """Give the stops snapped to the street graph of ``mode`` (see :meth:`street_graph`).

        Returns
        -------
        Snapped
            One row per stop in :attr:`stops` order; stops beyond the snap radius
            (``settings.snap_radius_m``) are left unsnapped.
        """
        if street_mode(mode, NetworkError) == WALK:
            return self._built.stops_walk
        return self._built.stops_bike

    def transfer_seconds(self, speed_walking: float, max_transfer_time_s: int) -> SparseTimes:
        """Stop-to-stop walking times within a time limit.

        Walks are stored up to ``TRANSFER_SEARCH_M`` (2,500 m), which covers the default
        20-minute transfer limit up to 7.5 km/h; faster walkers keep 2,500 m transfers.

        Parameters
        ----------
        speed_walking : float
            km/h.
        max_transfer_time_s : int
            Longest transfer walk, seconds.

        Returns
        -------
        SparseTimes
            Stop x stop seconds (rows and columns in :attr:`stops` order).
        """
        metres = self._built.transfer_m
        seconds = np.rint(metres.seconds * (3.6 / speed_walking)).astype(np.int32)
        keep = seconds <= max_transfer_time_s
        indptr = indptr_from_rows(metres.rows[keep], metres.shape[0])
        return SparseTimes(indptr, metres.indices[keep], seconds[keep], metres.shape)

    def __repr__(self) -> str:
        """Show the inputs, date, number of stops and whether the cache was used."""
        return (
            f"TransportNetwork(osm_pbf={self.osm_pbf.name!r}, gtfs={[p.name for p in self.gtfs]}, "
            f"date={self.date.isoformat()}, stops={len(self.stops)}, cached={self.cache_hit})"
        )


def _snap_stops(graph: StreetGraph, stops: gpd.GeoDataFrame) -> Snapped:
    """Snap the stops to a graph, with one log line instead of a warning."""
    # Stops beyond the extract are expected (about 40% of EPTC's lie outside POA's OSM
    # extract): they stay in the timetable, unreachable on foot. One log line, not a warning per build.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        snapped = snap_points(graph, stops, radius_m=settings.snap_radius_m)
    log.info(
        "%d of %d stops lie within %.0f m of the %s network",
        int(snapped.snapped.sum()),
        len(stops),
        settings.snap_radius_m,
        graph.mode,
    )
    return snapped


def _atomic_pickle(obj, path: Path) -> None:
    """Write to a temporary file in the same folder, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(obj, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
