"""TransportNetwork: streets + transit for one service date, built once, cached on disk.

Everything here depends only on the input files (OSM extract, GTFS feeds, date)
and a few settings, so it is cached under ``settings.cache_dir / "networks"``,
keyed by the files' sha256, in the data-only format of :mod:`transitmile.cache`
(arrays and a checked manifest, never pickle). What depends on a request (origins,
speeds, time limits) is computed per call in :mod:`transitmile.routing`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np

from . import cache, settings
from .conventions import BICYCLE, WALK, street_mode
from .data import file_sha256, path_sha256
from .engines.access import AccessService, check_access_services
from .engines.timetable import Timetable, compile_timetable
from .errors import NetworkError, show_value
from .feeds import Feed, load_feeds
from .feeds.model import FeedSource
from .sparse import SparseTimes, indptr_from_rows
from .streets import (
    Snapped,
    StreetGraph,
    UnsnappedPointsWarning,
    build_street_graph,
    snap_points,
    street_travel_times,
)

__all__ = ["TransportNetwork"]

log = logging.getLogger("transitmile")

#: Bumped whenever the cached content changes shape, so old caches are rebuilt.
#: (The version of the entry layout and content, :data:`transitmile.cache.CACHE_FORMAT`.)
CACHE_FORMAT = cache.CACHE_FORMAT

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
    timetable: Timetable
    build_seconds: float
    provenance: dict = field(default_factory=dict)


#: The only classes a cache entry may hold (by name): anything else is refused on load.
_CACHED_CLASSES = {
    cls.__qualname__: cls
    for cls in (_Built, Feed, FeedSource, StreetGraph, Snapped, SparseTimes, Timetable)
}


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
    second construction of the same network only reads its arrays back. The cache
    holds data, never code (:mod:`transitmile.cache`): a damaged, foreign or stale
    entry is a :class:`~transitmile.cache.CacheWarning` and a rebuild.

    Raises
    ------
    NetworkError
        A missing input, an OSM path that is not a ``.pbf``, or no transit stop within
        the snap radius of the street network (the extract and the feeds do not overlap).
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
        self._warn_if_few_stops_on_streets()

    # ----------------------------------------------------------------- build
    def _cache_inputs(self) -> dict:
        """Return what a cached network is built from: file hashes, date, settings (JSON)."""
        inputs = {
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
            inputs["interventions"] = json.dumps(specs, sort_keys=True, default=str)
        return inputs

    def _cache_key(self, inputs: dict | None = None) -> str:
        """Return the cache entry's name: a sha256 of the canonical JSON of its inputs."""
        inputs = self._cache_inputs() if inputs is None else inputs
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:24]

    def _load_or_build(self, use_cache: bool) -> tuple[_Built, bool]:
        """Read the cached build if intact, else build anew (and write the cache)."""
        inputs = self._cache_inputs()
        key = self._cache_key(inputs)
        folder = cache.cache_folder(settings.cache_dir / "networks") if use_cache else None
        # the entry's arrays (its manifest is the .json beside it); None when uncached
        self.cache_path = folder / f"{key}.npz" if folder else None
        if folder is None:
            return self._build(key), False
        with cache.entry_lock(folder, key):  # concurrent runs build a network once
            built = cache.load_entry(folder, key, inputs, _Built, _CACHED_CLASSES)
            if built is not None:
                return built, True
            built = self._build(key)
            cache.save_entry(folder, key, built, inputs, _CACHED_CLASSES)
        return built, False

    def _build(self, key: str) -> _Built:
        """Load the feeds, build both street graphs, snap stops, compile the timetable."""
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
        if len(stops) and not stops_walk.snapped.any():
            raise NetworkError(
                f"none of the {len(stops):,} transit stops of "
                f"{[p.name for p in self.gtfs]} lies within {settings.snap_radius_m:.0f} m of "
                f"the street network of {self.osm_pbf.name} (stops span lon "
                f"{_span(feed.stops['stop_lon'])}, lat {_span(feed.stops['stop_lat'])}; streets "
                f"lon {_span(walk.node_lon)}, lat {_span(walk.node_lat)}): the OSM extract and "
                "the GTFS feeds do not overlap"
            )
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

    def _warn_if_few_stops_on_streets(self) -> None:
        """Warn when fewer than half the stops lie on the street network (cached or not)."""
        on_streets = self._built.provenance["stops_on_street_network"]
        total = self._built.provenance["stops"]
        if on_streets < total / 2:
            warnings.warn(
                f"only {on_streets:,} of {total:,} transit stops ({on_streets / total:.0%}) lie "
                f"within {settings.snap_radius_m:.0f} m of the street network of "
                f"{self.osm_pbf.name}: the OSM extract covers little of the GTFS feeds' area; "
                "the other stops cannot be reached on foot",
                UnsnappedPointsWarning,
                stacklevel=3,
            )

    def swapped_hint(self, points: gpd.GeoDataFrame) -> str:
        """Give a hint when ``points`` lie off the network but would not with x and y swapped.

        Parameters
        ----------
        points : GeoDataFrame
            Points with a CRS (origins or destinations).

        Returns
        -------
        str
            ``"; ... look swapped ..."`` when, with x and y exchanged, some points fall
            inside the street network's bounding box; otherwise ``""``.
        """
        lonlat = points.geometry.to_crs("EPSG:4326")
        walk = self.walk
        margin = settings.snap_radius_m / 111_000.0  # degrees, about the snap radius
        lon, lat = lonlat.y.to_numpy(), lonlat.x.to_numpy()  # swapped
        inside = (
            (lon >= walk.node_lon.min() - margin)
            & (lon <= walk.node_lon.max() + margin)
            & (lat >= walk.node_lat.min() - margin)
            & (lat <= walk.node_lat.max() + margin)
        )
        if not inside.any():
            return ""
        return (
            f"; lon and lat look swapped: exchanged, {int(inside.sum())} of {len(points)} "
            "would lie on the network (a CSV needs columns lon = x, lat = y)"
        )

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

    def transfer_seconds(
        self,
        speed_walking: float,
        max_transfer_time_s: int,
        *,
        max_distance_m: float | None = None,
        closest_stop_per_pattern: bool = False,
    ) -> SparseTimes:
        """Stop-to-stop walking times within a time limit (and R5's transfer rules).

        Walks are stored up to ``TRANSFER_SEARCH_M`` (2,500 m), which covers the default
        20-minute transfer limit up to 7.5 km/h; faster walkers keep 2,500 m transfers.

        Parameters
        ----------
        speed_walking : float
            km/h.
        max_transfer_time_s : int
            Longest transfer walk, seconds.
        max_distance_m : float, optional
            Longest transfer walk, metres (R5: ``TransitLayer.TRANSFER_DISTANCE_LIMIT_METERS``,
            1,000 m).
        closest_stop_per_pattern : bool
            Keep, from each stop, only the stops that are the nearest one (by walking
            distance, among those within ``max_distance_m``; ties to the lower stop index)
            on some pattern serving them, and no walk to the stop itself: R5's
            ``TransferFinder.retainClosestStopsOnPatterns``. The time limit applies after.
            Boarding a pattern at a farther stop rarely helps (R5's own comment names the
            exception: a U-shaped line, boarded on its far arm).

        Returns
        -------
        SparseTimes
            Stop x stop seconds (rows and columns in :attr:`stops` order).
        """
        metres = self._built.transfer_m
        rows = metres.rows
        seconds = np.rint(metres.seconds * (3.6 / speed_walking)).astype(np.int32)
        keep = (seconds <= max_transfer_time_s) & self._transfer_rule(
            max_distance_m, closest_stop_per_pattern
        )
        indptr = indptr_from_rows(rows[keep], metres.shape[0])
        return SparseTimes(indptr, metres.indices[keep], seconds[keep], metres.shape)

    def _transfer_rule(self, max_distance_m: float | None, closest: bool) -> np.ndarray:
        """Transfers kept by the distance rules, whatever the speed (remembered per network).

        As R5's ``TransferFinder``, the nearest stop of each pattern is chosen by distance
        among the stops within ``max_distance_m``, before any time limit.
        """
        memo = self.__dict__.setdefault("_transfer_rules", {})
        key = (max_distance_m, closest)
        if key not in memo:
            metres = self._built.transfer_m
            keep = np.ones(metres.nnz, dtype=bool)
            if max_distance_m is not None:
                keep &= metres.seconds <= max_distance_m
            if closest:
                rows = metres.rows
                keep &= rows != metres.indices
                keep &= _closest_on_patterns(rows, metres.indices, metres.seconds, keep,
                                             self.timetable)  # fmt: skip
            memo[key] = keep
        return memo[key]

    def __repr__(self) -> str:
        """Show the inputs, date, number of stops and whether the cache was used."""
        return (
            f"TransportNetwork(osm_pbf={self.osm_pbf.name!r}, gtfs={[p.name for p in self.gtfs]}, "
            f"date={self.date.isoformat()}, stops={len(self.stops)}, cached={self.cache_hit})"
        )


def _closest_on_patterns(rows, targets, metres, keep, timetable) -> np.ndarray:
    """Mark the pairs whose target is the nearest kept stop on some pattern serving it.

    One (source, target, pattern) triple per pattern of each kept pair's target; the first
    triple of every (source, pattern) group by (metres, target) wins.
    """
    index = np.flatnonzero(keep)
    ptr = timetable.stop_pattern_ptr
    count = ptr[targets[index] + 1] - ptr[targets[index]]
    pair = np.repeat(index, count)
    first = np.repeat(ptr[targets[index]] - np.cumsum(count) + count, count)
    pattern = timetable.stop_pattern[first + np.arange(len(pair))]
    order = np.lexsort((targets[pair], metres[pair], pattern, rows[pair]))
    pair, pattern = pair[order], pattern[order]
    lead = np.ones(len(pair), dtype=bool)
    lead[1:] = (rows[pair[1:]] != rows[pair[:-1]]) | (pattern[1:] != pattern[:-1])
    out = np.zeros(len(keep), dtype=bool)
    out[pair[lead]] = True
    return out


def _span(values) -> str:
    """Minimum..maximum of coordinates, for a message."""
    return f"{np.min(values):.3f}..{np.max(values):.3f}"


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
