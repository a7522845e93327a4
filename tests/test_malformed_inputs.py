"""Property tests: malformed GTFS tables and point layers give a TransitmileError or a result.

Hypothesis rewrites one file of the builder's minimal valid feed (or one origins CSV)
with rows made of awkward values: blanks, text in number columns, impossible times,
huge numbers, missing or repeated columns, a header alone, nothing at all. Whatever it
draws, loading must end in a loaded feed (or point layer) or a
:class:`~transitmile.errors.TransitmileError` naming the problem, never another
exception (a traceback for the planner).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import geopandas as gpd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from transitmile.engines.timetable import compile_timetable
from transitmile.errors import TransitmileError
from transitmile.feeds import Feed, load_feeds
from transitmile.io import read_points

from .gtfs_builder import BASE, write_feed

AWKWARD = [
    "", " ", "abc", "0", "-1", "1", "3", "1.5", "nan", "inf", "1e400", "-200", "91",
    "08:00:00", "25:61:00", "99:99:99", "-01:00:00", "8:00", "20240115", "2024-01-15",
    "S1", "S2", "T1", "R1", "WK", "A", '"quoted, comma"', "ünïcödé", "0x10", "None",
]  # fmt: skip
HEADERS = {
    name: BASE[name].strip().splitlines()[0].strip().split(",")
    for name in ("stops.txt", "stop_times.txt", "trips.txt", "routes.txt", "calendar.txt")
}

cells = st.sampled_from(AWKWARD)


@st.composite
def malformed_table(draw):
    """One feed file replaced: awkward rows under its header, a changed header, or nothing."""
    name = draw(st.sampled_from(sorted(HEADERS)))
    header = list(HEADERS[name])
    shape = draw(st.sampled_from(["rows", "drop_column", "header_only", "empty", "missing"]))
    if shape == "missing":
        return name, None
    if shape == "empty":
        return name, ""
    if shape == "drop_column":
        header.remove(draw(st.sampled_from(header)))
    valid = BASE[name].strip().splitlines()[1:]
    rows = [] if shape == "header_only" else [r.strip() for r in valid]
    extra = draw(st.lists(st.lists(cells, min_size=len(header), max_size=len(header)), max_size=4))
    rows += [",".join(r) for r in extra]
    if shape != "rows" or not extra:
        rows = [",".join(r.split(",")[: len(header)]) for r in rows]
    return name, "\n".join([",".join(header), *rows])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=malformed_table(), as_zip=st.booleans())
# found by this test: a trip_id repeated exactly once and blank ids broke the trip filter
@example(
    table=("trips.txt", "route_id,service_id,trip_id,direction_id\nR1,WK,T1,0\n-1,,,\n-1,,,\n,,,"),
    as_zip=False,
)
@example(  # and a route_type of "inf" (a float to pandas) failed the cast to int
    table=(
        "routes.txt",
        "route_id,agency_id,route_short_name,route_long_name,route_type\nR1,,,,inf",
    ),
    as_zip=True,
)
def test_malformed_gtfs_loads_or_says_why(table, as_zip):
    name, text = table
    with tempfile.TemporaryDirectory() as tmp:
        path = write_feed(Path(tmp) / "feed", {name: text}, as_zip=as_zip)
        try:
            feed = load_feeds(path, date=dt.date(2024, 1, 15), progress=False)
        except TransitmileError as exc:
            assert str(exc)
        else:  # a loaded feed compiles for the router, or says why
            assert isinstance(feed, Feed) and len(feed.stop_times) > 0
            try:
                compile_timetable(feed, list(feed.stops["stop_id"]))
            except TransitmileError as exc:
                assert str(exc)


POINT_COLUMNS = ["id", "lon", "lat", "name", "x"]


@st.composite
def malformed_points(draw):
    """An origins CSV: some of id/lon/lat (or none), awkward values, or an empty file."""
    if draw(st.booleans()) and draw(st.booleans()):
        return draw(st.sampled_from(["", "\n", "id,lon,lat\n", "id;lon;lat\n1;2;3\n"]))
    columns = draw(st.lists(st.sampled_from(POINT_COLUMNS), min_size=1, max_size=4, unique=True))
    rows = draw(st.lists(st.lists(cells, min_size=len(columns), max_size=len(columns)), max_size=5))
    return "\n".join(",".join(r) for r in [columns, *rows]) + "\n"


@settings(max_examples=60, deadline=None)
@given(text=malformed_points())
def test_malformed_points_read_or_say_why(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "origins.csv"
        path.write_text(text)
        try:
            points = read_points(path, "--origins")
        except TransitmileError as exc:
            assert "--origins" in str(exc)
        else:
            assert isinstance(points, gpd.GeoDataFrame)
            assert len(points) and all(
                type(i) is str for i in points["id"]
            )  # ids are text, as written
            assert points.geometry.x.between(-180, 180).all()
