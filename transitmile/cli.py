"""The ``transitmile`` command: thin argparse front end over the library.

Each subcommand is a ``_cmd_<name>(args) -> int`` function registered in
:func:`build_parser`, so that ``ttm`` and ``run`` can be added alongside.
A :class:`~transitmile.errors.TransitmileError` becomes a one-line message on
stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import pandas as pd

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


def _cmd_feed_summary(args: argparse.Namespace) -> int:
    from .feeds import feed_summary, frequent_stops, load_feeds, stop_service

    start, end = _parse_window(args.window)
    feed = load_feeds(args.paths, date=args.date, progress=False if args.json else None)
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


def build_parser() -> argparse.ArgumentParser:
    """The ``transitmile`` argument parser with one sub-parser per command."""
    parser = argparse.ArgumentParser(
        prog="transitmile",
        description="First/last-mile transit access studies.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    datasets = commands.add_parser("datasets", help="list the data sets in the catalog")
    datasets.add_argument("--json", action="store_true", help="print JSON")
    datasets.set_defaults(run=_cmd_datasets)

    summary = commands.add_parser(
        "feed-summary",
        help="summarise GTFS feeds for one date and count frequent stops",
        description="Load GTFS feeds (zips or folders) for one service date, print what is "
        "in them and how many stops have frequent service in a time window.",
    )
    summary.add_argument("paths", nargs="+", metavar="PATH", help="GTFS zip files or folders")
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
    summary.add_argument("--json", action="store_true", help="print JSON")
    summary.set_defaults(run=_cmd_feed_summary)
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
