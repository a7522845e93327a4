"""The ``transitmile`` command: thin argparse front end over the library.

Each subcommand is a ``_cmd_<name>(args) -> int`` function registered in
:func:`build_parser`, so that ``ttm`` and ``run`` can be added alongside.
A :class:`~transitmile.errors.TransitmileError` becomes a one-line message on
stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .conventions import R5PY_DEFAULTS
from .engines.request import ENGINES
from .errors import TransitmileError

__all__ = ["main", "build_parser"]

#: Exit code for a user's mistake (bad input, missing data).
EXIT_USER_ERROR = 2


def _cmd_datasets(args: argparse.Namespace) -> int:
    from .data import list_datasets

    table = list_datasets()
    if args.json:
        print(table.to_json(orient="records", indent=2))
    else:
        print(table.to_string(index=False))
    return 0


def _parse_window(text: str) -> tuple[str, str]:
    start, sep, end = text.partition("-")
    if not sep:
        raise TransitmileError(f"--window: expected HH:MM-HH:MM, got {text!r}")
    return start.strip(), end.strip()


def _feed_paths(args: argparse.Namespace) -> list:
    if args.paths and args.dataset:
        raise TransitmileError("feed-summary: give GTFS paths or --dataset, not both")
    if args.dataset:
        from .data import fetch_dataset

        return fetch_dataset(args.dataset).gtfs
    if not args.paths:
        raise TransitmileError("feed-summary: give one or more GTFS paths, or --dataset NAME")
    return args.paths


def _cmd_feed_summary(args: argparse.Namespace) -> int:
    from .feeds import feed_summary, frequent_stops, load_feeds, stop_service

    start, end = _parse_window(args.window)
    paths = _feed_paths(args)
    names = _feed_names(paths, args.names)
    feed = load_feeds(paths, date=args.date, names=names, progress=False if args.json else None)
    summary = feed_summary(feed)
    service = stop_service(feed, start, end)
    frequent = frequent_stops(feed, start, end, max_headway_min=args.max_headway)
    levels = {
        "window": f"{start}-{end}",
        "max_headway_min": args.max_headway,
        "stops": len(service),
        "stops_with_service": int((service["trips"] > 0).sum()),
        "frequent_stops": len(frequent),
    }
    if args.json:
        out = {
            "service_date": feed.service_date.isoformat(),
            "sources": [
                {"name": s.name, "path": str(s.path), "sha256": s.sha256} for s in feed.sources
            ],
            "summary": json.loads(summary.astype({"service_date": str}).to_json(orient="records")),
            "stop_service": levels,
        }
        print(json.dumps(out, indent=2))
        return 0
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(f"service date {feed.service_date}")
        print(summary.set_index("feed").T.to_string())
        print(
            f"\nstops in {levels['window']}: {levels['stops_with_service']} of {levels['stops']} "
            f"have departures; {levels['frequent_stops']} are frequent "
            f"(mean headway <= {args.max_headway:g} min)"
        )
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    """Load feeds as ``load_feeds`` does and print their notices: 0 clean, 1 errors."""
    import datetime as dt
    import warnings
    from pathlib import Path

    from .errors import FeedError
    from .feeds import FeedNoticeWarning, load_feeds
    from .feeds.notices import empty_notices

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise TransitmileError(f"validate: GTFS feed {missing[0]!r} not found")
    if args.date != "busiest":
        try:
            dt.date.fromisoformat(args.date)
        except ValueError:
            raise TransitmileError(
                f"--date: expected YYYY-MM-DD or 'busiest', got {args.date!r}"
            ) from None
    refused, date = None, args.date
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FeedNoticeWarning)
            feed = load_feeds(args.paths, date=args.date, progress=False)
        notices, date = feed.notices, feed.service_date.isoformat()
    except FeedError as exc:  # the feed itself is unusable: that is the finding
        refused, notices = str(exc), empty_notices()
    severity = notices["severity"].value_counts()
    errors = int(severity.get("error", 0)) + (refused is not None)
    if args.json:
        out = {
            "service_date": date,
            "refused": refused,
            "errors": errors,
            "warnings": int(severity.get("warning", 0)),
            "notices": json.loads(notices.to_json(orient="records")),
        }
        print(json.dumps(out, indent=2))
    elif refused is not None:
        print(f"refused: {refused}")
    elif notices.empty:
        print(f"no notices: the feeds are clean on {date}")
    else:
        shown = notices.drop(columns=["message"])
        with pd.option_context("display.width", 200, "display.max_colwidth", 70):
            print(f"service date {date}: {errors} errors, {len(notices) - errors} other notices")
            print(shown.to_string(index=False))
    return 1 if errors else 0


def _read_points(path: str | None, what: str):
    from .io import read_points
    from .routing import check_points

    return check_points(read_points(path, what), what) if path else None


#: The library's parameter names as the ``ttm`` command spells them, for messages.
_TTM_FLAGS = {
    "departure_time_window": "--window",
    "max_time": "--max-time",
    "percentiles": "--percentiles",
    "transport_modes": "--modes",
    "access_modes": "--access",
    "egress_modes": "--egress",
    "speed_walking": "--speed-walking",
    "speed_cycling": "--speed-cycling",
    "max_public_transport_rides": "--max-rides",
}


def _percentiles(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split(","))
    except ValueError:
        raise TransitmileError(
            f"--percentiles: expected whole numbers in 1..99 separated by commas, e.g. 25,50,75; "
            f"got {text!r}"
        ) from None


def _agency_timezone(gtfs: Sequence) -> str:
    """Return the one ``agency_timezone`` of the feeds (agency.txt), else raise."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from .feeds._open import _feed_folder, _raw

    zones: set[str] = set()
    for path in gtfs:
        with _feed_folder(Path(path)) as folder:
            agency = _raw(folder).agency
        if "agency_timezone" in agency.columns:
            zones |= {str(z).strip() for z in agency["agency_timezone"].dropna()}
    if len(zones) != 1:
        raise TransitmileError(
            f"--departure has a UTC offset, but the feeds' agency_timezone is "
            f"{sorted(zones) or 'missing'} (agency.txt); give the local time without an offset"
        )
    zone = zones.pop()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise TransitmileError(
            f"--departure has a UTC offset, but agency.txt's agency_timezone {zone!r} is not a "
            "known time zone; give the local time without an offset"
        ) from None
    return zone


def _departure(text: str, gtfs: Sequence) -> dt.datetime:
    """Parse ``--departure`` into local feed time, converting a UTC offset to the feeds' zone."""
    from zoneinfo import ZoneInfo

    try:
        departure = dt.datetime.fromisoformat(text)
    except ValueError:
        departure = None
    if departure is None or not re.search(r"\d[T ]\d", text.strip()):
        raise TransitmileError(
            f"--departure: expected a date and a time, YYYY-MM-DDTHH:MM (local feed time), "
            f"got {text!r}"
        )
    if departure.utcoffset() is not None:
        zone = _agency_timezone(gtfs)
        local = departure.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        print(
            f"--departure {text} is {local.isoformat()} in the feeds' time zone {zone}",
            file=sys.stderr,
        )
        return local
    return departure


def _feed_names(gtfs: Sequence, names: Sequence[str] | None) -> list[str] | None:
    """Return ``--names``, or names from the parent folders when feed file names repeat."""
    paths = [Path(p) for p in gtfs]
    if names is not None:
        if len(names) != len(paths) or len(set(names)) != len(names):
            raise TransitmileError(
                f"--names: expected {len(paths)} distinct names, one per GTFS feed, got {names}"
            )
        return list(names)
    stems = [p.stem if p.suffix.lower() == ".zip" else p.name for p in paths]
    if len(set(stems)) == len(stems):
        return None
    parents = [p.expanduser().resolve().parent.name for p in paths]
    if len(set(parents)) == len(parents):
        return [f"{parent}_{stem}" for parent, stem in zip(parents, stems, strict=True)]
    raise TransitmileError(
        f"GTFS feeds {[str(p) for p in paths]} share the file name(s) "
        f"{sorted({s for s in stems if stems.count(s) > 1})}; give each a name with --names"
    )


def _ttm_request(args: argparse.Namespace, departure: dt.datetime) -> dict:
    """Return the routing parameters of ``ttm``, checked before any network is built."""
    from .engines.request import make_request
    from .errors import RoutingError

    params = dict(
        departure=departure,
        departure_time_window=dt.timedelta(minutes=args.window),
        percentiles=_percentiles(args.percentiles),
        transport_modes=tuple(args.modes.split(",")),
        access_modes=tuple(args.access.split(",")),
        egress_modes=tuple(args.egress.split(",")) if args.egress else None,
        max_time=dt.timedelta(minutes=args.max_time),
        speed_walking=args.speed_walking,
        speed_cycling=args.speed_cycling,
        max_public_transport_rides=args.max_rides,
    )
    try:
        make_request(**params)
    except RoutingError as exc:
        message = str(exc)
        for name, flag in _TTM_FLAGS.items():
            message = message.replace(f"parameter {name!r}", flag)
        raise RoutingError(message) from None
    return params


def _study_inputs(args: argparse.Namespace, command: str):
    """OSM, GTFS, origins and destinations (None: the origins) of --dataset or the files."""
    if args.dataset:
        from .data import fetch_dataset

        data = fetch_dataset(args.dataset)
        osm, gtfs, origins = data.osm_pbf, data.gtfs, data.origins
    elif args.osm and args.gtfs:
        osm, gtfs, origins = args.osm, args.gtfs, None
    else:
        raise TransitmileError(f"{command}: give --dataset NAME, or --osm PBF and --gtfs PATH...")
    origins = _read_points(args.origins, "--origins") if args.origins else origins
    if origins is None:
        raise TransitmileError(f"{command}: --origins FILE is required without --dataset")
    return osm, gtfs, origins, _read_points(args.destinations, "--destinations")


def _cmd_ttm(args: argparse.Namespace) -> int:
    from .io import check_output_path, write_table
    from .network import TransportNetwork
    from .routing import travel_time_matrix

    # Every argument is checked before the network is built or loaded.
    if args.partitioned:
        _check_partitioned_output(args.output)
    else:
        check_output_path(args.output, "-o/--output")
    osm, gtfs, origins, destinations = _study_inputs(args, "ttm")
    names = _feed_names(gtfs, args.names)
    departure = _departure(args.departure, gtfs)
    params = _ttm_request(args, departure)
    options = {
        **params,
        "breakdown": args.breakdown,
        "engine": args.engine,
        "chunk_size": args.chunk_size,
    }
    with _dask_client(args.scheduler) as client:
        network = TransportNetwork(osm, gtfs, departure.date(), names=names)
        if args.partitioned:
            return _write_partitioned(network, origins, destinations, args.output, client, options)
        frame = travel_time_matrix(network, origins, destinations, client=client, **options)
    written = write_table(frame, args.output)
    reached = frame.filter(like="travel_time").notna().any(axis=1).mean()
    print(
        f"{len(frame):,} origin-destination pairs ({reached:.1%} reachable) by "
        f"{frame.attrs['engine']} -> {written} (+ {written.name}.json with provenance)"
    )
    return 0


def _check_partitioned_output(output: str) -> None:
    """Refuse a file name or a folder of other files for ``--partitioned``, before work."""
    from .partitioned import MatrixFolder

    if output.lower().endswith((".csv", ".parquet")):
        raise TransitmileError(f"--partitioned: -o must be a folder (e.g. ttm/), got {output!r}")
    MatrixFolder(output).check()


def _write_partitioned(network, origins, destinations, output: str, client, options) -> int:
    from .partitioned import MANIFEST, MatrixFolder, read_manifest
    from .routing import write_travel_time_matrix

    written = write_travel_time_matrix(
        network, origins, destinations, path=output, client=client, **options
    )
    manifest = read_manifest(MatrixFolder(written))
    print(
        f"{manifest['n_rows']:,} origin-destination pairs in {len(manifest['parts'])} parts "
        f"({manifest['n_bytes']:,} bytes) -> {written} ({MANIFEST} written last)"
    )
    return 0


_NAMES_HELP = (
    "one name per GTFS feed, prefixing its ids (default: the file names, or parent folder "
    "and file name when file names repeat)"
)


def _cmd_run(args: argparse.Namespace) -> int:
    from .study import run_study, summary_lines

    runs = run_study(
        args.studies, args.out, with_code=args.with_code, only=args.only, jobs=args.jobs,
        force=args.force,
    )  # fmt: skip
    for line in summary_lines(runs, args.out):
        print(line)
    return 1 if any(r.status == "failed" for r in runs) else 0


def _cmd_gaps(args: argparse.Namespace) -> int:
    """Run ``transitmile gaps``: first mile, last mile, walksheds and the gap summary."""
    import datetime as dt
    import warnings

    from .access import AccessWarning, first_mile, gap_summary, last_mile, walksheds
    from .io import LAYER_FORMATS, write_layers
    from .network import TransportNetwork

    if not args.output.lower().endswith(tuple(LAYER_FORMATS)):
        raise TransitmileError(f"-o: output must end in .gpkg or .parquet, got {args.output!r}")
    osm, gtfs, origins, destinations = _study_inputs(args, "gaps")
    destinations = origins if destinations is None else destinations
    try:
        date = dt.date.fromisoformat(args.date)
    except ValueError:
        raise TransitmileError(f"--date: expected YYYY-MM-DD, got {args.date!r}") from None
    start, end = _parse_window(args.window)
    try:
        bands = tuple(float(m) for m in args.minutes.split(","))
    except ValueError:
        raise TransitmileError(f"--minutes: expected e.g. 5,10,15, got {args.minutes!r}") from None
    opportunities = tuple(o for o in args.opportunities.split(",") if o)
    window = {"start": start, "end": end, "max_headway_min": args.max_headway}
    network = TransportNetwork(osm, gtfs, date)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AccessWarning)
        first = first_mile(
            network, origins, **window, threshold_min=args.threshold,
            speed_walking=args.speed_walking, speed_cycling=args.speed_cycling,
            population=args.population,
        )  # fmt: skip
        last = last_mile(
            network, destinations, opportunities, **window, threshold_min=args.threshold,
            speed_walking=args.speed_walking,
        )  # fmt: skip
        sheds = walksheds(
            network, minutes=bands, points=origins, **window, speed_walking=args.speed_walking,
            population=args.population, jobs="jobs" if "jobs" in origins.columns else None,
        )  # fmt: skip
        coverage = walksheds(
            network, minutes=bands, points=origins, **window, speed_walking=args.speed_walking,
            population=args.population, jobs="jobs" if "jobs" in origins.columns else None,
            dissolve=True,
        )  # fmt: skip
        if args.jobs_access:
            first = first.merge(_jobs_access(args, network, origins, date, start), on="id")
    for warning in {str(w.message) for w in caught if issubclass(w.category, AccessWarning)}:
        print(f"transitmile: warning: {warning}", file=sys.stderr)
    summary = gap_summary(first)
    layers = {
        "first_mile": first,
        "last_mile": last,
        "walksheds": sheds,
        "coverage": coverage,
        "gap_summary": summary,
    }
    arguments = {k: v for k, v in vars(args).items() if k != "run"}
    written = write_layers(layers, args.output, provenance={"command": "gaps", **arguments})
    row = summary.loc["all"]
    print(
        f"{row['residents_in_gap']:,.0f} of {row['residents']:,.0f} residents "
        f"({row['gap_share']:.1%}) walk more than {args.threshold:g} min to frequent transit "
        f"({start}-{end}, headway <= {args.max_headway:g} min) -> {written[0]} "
        f"(+ {written[-1].name} with provenance)"
    )
    return 0


@contextlib.contextmanager
def _dask_client(address: str | None):
    """Connect a Dask client for ``--scheduler ADDRESS`` (None without one)."""
    if address is None:
        yield None
        return
    from .distributed import require_dask

    distributed = require_dask()
    try:
        client = distributed.Client(address, timeout="30s")
    except OSError as exc:
        raise TransitmileError(f"--scheduler: cannot reach {address!r}: {exc}") from None
    with client:
        yield client


def _jobs_access(args: argparse.Namespace, network, origins, date, start: str):
    """Jobs within 30, 45 and 60 minutes by transit from each origin, network-direct."""
    import datetime as dt

    from .access import accessibility
    from .feeds import parse_clock

    departure = dt.datetime.combine(date, dt.time()) + dt.timedelta(seconds=parse_clock(start))
    return accessibility(
        network, origins, "jobs", "cumulative", cutoffs=(30, 45, 60), origins=origins,
        departure=departure, departure_time_window=dt.timedelta(minutes=60),
        max_time=dt.timedelta(minutes=61), speed_walking=args.speed_walking,
        engine=args.engine,
    )  # fmt: skip


def _add_gaps_parser(commands) -> None:
    gaps = commands.add_parser(
        "gaps",
        help="first/last-mile gaps: who is far from frequent transit (GeoPackage/GeoParquet)",
        description="Walking and cycling to frequent transit per origin, walking from it per "
        "destination, walksheds of the frequent stops and the residents in the gap, written "
        "as layers first_mile, last_mile, walksheds, coverage and gap_summary of a GeoPackage "
        "(.gpkg) or GeoParquet files (.parquet), with a JSON provenance sidecar.",
    )
    where = gaps.add_argument_group("network and points")
    where.add_argument("--dataset", help="a catalog data set (its OSM, GTFS and origins)")
    where.add_argument("--osm", help="OpenStreetMap .pbf extract")
    where.add_argument("--gtfs", nargs="+", help="GTFS zips or folders")
    where.add_argument("--origins", help="CSV with id, lon, lat, population, or a vector file")
    where.add_argument(
        "--destinations", help="as --origins, with the opportunities (default: origins)"
    )
    gaps.add_argument("--date", required=True, help="service date, YYYY-MM-DD")
    gaps.add_argument("--window", default="07:00-09:00", help="HH:MM-HH:MM (07:00-09:00)")
    gaps.add_argument("--max-headway", type=float, default=15.0, help="frequent: minutes (15)")
    gaps.add_argument("--threshold", type=float, default=10.0, help="gap: walk minutes (10)")
    gaps.add_argument("--minutes", default="5,10,15", help="walkshed bands (5,10,15)")
    gaps.add_argument("--population", default="population", help="population column")
    gaps.add_argument(
        "--opportunities", default="jobs,schools,healthcare", help="destination columns"
    )
    gaps.add_argument("--speed-walking", type=float, default=3.6, help="km/h (3.6)")
    gaps.add_argument("--speed-cycling", type=float, default=12.0, help="km/h (12)")
    gaps.add_argument(
        "--jobs-access",
        action="store_true",
        help="also route transit (60-minute window from the window's start) for the jobs "
        "within 30/45/60 minutes of each origin, and their population-weighted mean",
    )
    gaps.add_argument("--engine", default="auto", choices=["auto", "embedded", "r5py"])
    gaps.add_argument("-o", "--output", required=True, help="output .gpkg or .parquet")
    gaps.set_defaults(run=_cmd_gaps)


def _minutes(duration) -> int:
    """Whole minutes of a timedelta (CLI durations are minutes)."""
    return int(duration.total_seconds() // 60)


def _command(commands, name: str, run, summary: str, description=None, json=False):
    """Add one sub-command whose ``run`` handles its parsed arguments (``--json`` if asked)."""
    parser = commands.add_parser(name, help=summary, description=description)
    parser.set_defaults(run=run)
    if json:
        parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def build_parser() -> argparse.ArgumentParser:
    """Build the ``transitmile`` argument parser, one sub-parser per command."""
    parser = argparse.ArgumentParser(
        prog="transitmile",
        description="First/last-mile transit access studies.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _command(commands, "datasets", _cmd_datasets, "list the data sets in the catalog", json=True)
    summary = _command(
        commands, "feed-summary", _cmd_feed_summary,
        "summarise GTFS feeds for one date and count frequent stops",
        "Load GTFS feeds (zips or folders) for one service date, print what is "
        "in them and how many stops have frequent service in a time window.", json=True,
    )  # fmt: skip
    summary.add_argument("paths", nargs="*", metavar="PATH", help="GTFS zip files or folders")
    summary.add_argument("--dataset", help="use the GTFS feeds of a catalog data set instead")
    summary.add_argument("--names", nargs="+", help=_NAMES_HELP)
    summary.add_argument(
        "--date", default="busiest", help="YYYY-MM-DD or 'busiest' (default: busiest)"
    )
    summary.add_argument(
        "--window", default="07:00-09:00", help="HH:MM-HH:MM (default: 07:00-09:00)"
    )
    summary.add_argument(
        "--max-headway",
        type=float,
        default=15.0,
        help="frequent means a mean headway of at most this many minutes (default: 15)",
    )
    validate = _command(
        commands, "validate", _cmd_validate,
        "list what is wrong in GTFS feeds and what loading them repairs or drops",
        "Load GTFS feeds for one service date and print their validator notices (GTFS "
        "validator codes). Exit code 0: clean; 1: error notices, or a feed that cannot be "
        "used; 2: a usage error.", json=True,
    )  # fmt: skip
    validate.add_argument("paths", nargs="+", metavar="FEED", help="GTFS zip files or folders")
    validate.add_argument(
        "--date", default="busiest", help="YYYY-MM-DD or 'busiest' (default: busiest)"
    )
    ttm = _command(
        commands, "ttm", _cmd_ttm,
        "travel time matrix (r5py's TravelTimeMatrix on either engine)",
        "Door-to-door travel times from origins to destinations, written to CSV or "
        "Parquet with a JSON sidecar recording engine, versions, parameters and hashes.",
    )  # fmt: skip
    where = ttm.add_argument_group("network and points")
    where.add_argument("--dataset", help="a catalog data set (its OSM, GTFS and origins)")
    where.add_argument("--osm", help="OpenStreetMap .pbf extract")
    where.add_argument("--gtfs", nargs="+", help="GTFS zips or folders")
    where.add_argument("--names", nargs="+", help=_NAMES_HELP)
    where.add_argument("--origins", help="CSV with id, lon, lat, or a GeoPackage/GeoJSON")
    where.add_argument("--destinations", help="as --origins (default: the origins)")
    ttm.add_argument(
        "--departure",
        required=True,
        help="YYYY-MM-DDTHH:MM, local feed time (a UTC offset such as +02:00 is "
        "converted to the feeds' agency_timezone)",
    )
    d = R5PY_DEFAULTS
    window, max_time = _minutes(d.departure_time_window), _minutes(d.max_time)
    ttm.add_argument(
        "--window", type=int, default=window, help=f"departure window, minutes ({window})"
    )
    percentiles = ",".join(str(p) for p in d.percentiles)
    ttm.add_argument(
        "--percentiles", default=percentiles, help=f"comma-separated, e.g. 25,50,75 ({percentiles})"
    )
    modes, access = ",".join(d.transport_modes), ",".join(d.access_modes)
    ttm.add_argument("--modes", default=modes, help=f"transport modes ({modes})")
    ttm.add_argument("--access", default=access, help=f"access modes ({access})")
    ttm.add_argument("--egress", default=None, help="egress modes (default: as access)")
    ttm.add_argument("--max-time", type=int, default=max_time, help=f"minutes ({max_time})")
    for mode, speed in (("walking", d.speed_walking), ("cycling", d.speed_cycling)):
        ttm.add_argument(f"--speed-{mode}", type=float, default=speed, help=f"km/h ({speed:g})")
    rides = d.max_public_transport_rides
    ttm.add_argument(
        "--max-rides", type=int, default=rides, help=f"max public transport rides ({rides})"
    )
    ttm.add_argument("--breakdown", action="store_true", help="add access/wait/ride/egress")
    ttm.add_argument("--engine", default="auto", choices=list(ENGINES))
    ttm.add_argument("-o", "--output", required=True, help="output .csv or .parquet, or a folder")
    scale = ttm.add_argument_group("larger than memory, and on a Dask cluster")
    scale.add_argument(
        "--partitioned",
        action="store_true",
        help="write -o FOLDER as Parquet parts, one per chunk of origins, never gathered",
    )
    scale.add_argument("--chunk-size", type=int, default=None, help="origins per chunk / part")
    scale.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="route on this Dask scheduler, e.g. tcp://scheduler:8786 (pip install "
        "'transitmile[dask]')",
    )

    run = _command(
        commands, "run", _cmd_run, "run study notebooks with papermill and publish HTML reports",
        "Check the study files, execute their notebooks (progress bars off), and write "
        "OUT/<study>/ with the executed notebooks, HTML reports and an index.html recording "
        "engine, versions, data hashes, parameters and run times. Notebooks whose inputs are "
        "unchanged since their last successful run are skipped. Exit code 1 when a notebook "
        "fails (the others still run).",
    )  # fmt: skip
    run.add_argument("studies", nargs="+", metavar="STUDY.yml", help="study files")
    run.add_argument("--out", default="reports", help="report folder (default: reports)")
    run.add_argument("--with-code", action="store_true", help="show code cells in the HTML")
    run.add_argument(
        "--only", action="append", metavar="NOTEBOOK", help="run only this notebook (repeatable)"
    )
    run.add_argument("--jobs", type=int, default=1, help="notebooks run at once (default: 1)")
    run.add_argument("--force", action="store_true", help="re-run unchanged notebooks too")
    _add_gaps_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 user error)."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except TransitmileError as exc:
        print(f"transitmile: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
