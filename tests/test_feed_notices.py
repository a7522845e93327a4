"""Real-world feeds: one small broken feed per notice code, the action and what remains."""

from __future__ import annotations

import datetime
import json
import textwrap
import warnings

import pytest

from transitmile.cli import main
from transitmile.errors import FeedError
from transitmile.feeds import CODES, FeedNoticeWarning, load_feeds

from .conftest import POA_DATE
from .gtfs_builder import BASE

MONDAY = datetime.date(2024, 1, 1)
HEADER = "trip_id,arrival_time,departure_time,stop_id,stop_sequence"
# T1 as in the base feed (S2, S3 interpolated), T2 a timed express S1 -> S4 at 09:00.
T1 = ["T1,08:00:00,08:00:00,S1,1", "T1,,,S2,2", "T1,,,S3,3", "T1,08:10:00,08:10:00,S4,4"]
T2 = ["T2,09:00:00,09:00:00,S1,1", "T2,09:10:00,09:10:00,S4,2"]
TRIPS = ["route_id,service_id,trip_id,direction_id", "R1,WK,T1,0", "R1,WK,T2,0"]
STOPS = textwrap.dedent(BASE["stops.txt"]).strip().splitlines()


def files(stop_times=None, trips=None, stops=None, **other) -> dict[str, str]:
    """The two-trip feed with lines replaced (lists of CSV lines, header included)."""
    return {
        "stop_times.txt": "\n".join(stop_times or [HEADER, *T1, *T2]),
        "trips.txt": "\n".join(trips or TRIPS),
        "stops.txt": "\n".join(stops or STOPS),
        **{f"{k}.txt": v for k, v in other.items()},
    }


def stops_with(line: str, stop: str = "S3") -> list[str]:
    return [line if row.startswith(f"{stop},") else row for row in STOPS]


UNLOCATED_S3 = [("stops.txt", 1), ("stop_times.txt", 1)]

# name: (files, [(code, file, count, action, trips_dropped)], remaining trips, stop_times rows)
CASES = {
    "exact duplicate stop_times row": (
        files([HEADER, *T1, T1[1], *T2]),
        [("duplicate_key", "stop_times.txt", 1, "repaired", 0)],
        ["T1", "T2"],
        6,
    ),
    "stop_sequence repeated with another stop": (
        files([HEADER, *T1[:2], "T1,,,S3,2", T1[3], *T2]),
        [("duplicate_key", "stop_times.txt", 2, "dropped", 1)],
        ["T2"],
        2,
    ),
    "exact duplicate stop": (
        files(stops=[*STOPS, STOPS[2]]),
        [("duplicate_key", "stops.txt", 1, "repaired", 0)],
        ["T1", "T2"],
        6,
    ),
    "stop_id repeated with other coordinates": (
        files(stops=[*STOPS, "S3,Elsewhere,0.0,10.05"]),
        [("duplicate_key", "stops.txt", 2, "dropped", 0)]
        + [("duplicate_key", "stop_times.txt", 1, "dropped", 0)],
        ["T1", "T2"],
        5,
    ),
    "trip_id repeated with another route": (
        files(trips=[*TRIPS, "R2,WK,T2,0"], routes=BASE["routes.txt"] + "\nR2,A,2,Two,3"),
        [("duplicate_key", "trips.txt", 2, "dropped", 1)],
        ["T1"],
        4,
    ),
    "stop_times row at an unknown stop": (
        files([HEADER, *T1[:2], "T1,,,S7,3", T1[3], *T2]),
        [("foreign_key_violation", "stop_times.txt", 1, "dropped", 0)],
        ["T1", "T2"],
        5,
    ),
    "stop_times rows of an unknown trip": (
        files([HEADER, *T1, *T2, "X9,10:00:00,10:00:00,S1,1", "X9,10:05:00,10:05:00,S2,2"]),
        [("foreign_key_violation", "stop_times.txt", 2, "dropped", 0)],
        ["T1", "T2"],
        6,
    ),
    "trip of an unknown route": (
        files(trips=[TRIPS[0], TRIPS[1], "R9,WK,T2,0"]),
        [("foreign_key_violation", "trips.txt", 1, "dropped", 1)],
        ["T1"],
        4,
    ),
    "trip of an unknown service": (
        files(trips=[TRIPS[0], TRIPS[1], "R1,NOPE,T2,0"]),
        [("foreign_key_violation", "trips.txt", 1, "dropped", 0)],
        ["T1"],
        4,
    ),
    "trip whose service never runs": (
        files(
            trips=[TRIPS[0], TRIPS[1], "R1,NEVER,T2,0"],
            calendar=BASE["calendar.txt"] + "\nNEVER,0,0,0,0,0,0,0,20240101,20240131",
        ),
        [("service_never_active", "trips.txt", 1, "dropped", 0)],
        ["T1"],
        4,
    ),
    "arrival before the previous departure": (
        files([HEADER, *T1, T2[0], "T2,08:55:00,08:55:00,S4,2"]),
        [
            (
                "stop_time_with_arrival_before_previous_departure_time",
                "stop_times.txt",
                1,
                "dropped",
                1,
            )
        ],
        ["T1"],
        4,
    ),
    "departure before arrival": (
        files([HEADER, *T1, "T2,09:00:00,08:59:00,S1,1", T2[1]]),
        [("stop_time_with_departure_before_arrival_time", "stop_times.txt", 1, "dropped", 1)],
        ["T1"],
        4,
    ),
    "shape_dist_traveled decreasing": (
        files(
            [
                f"{HEADER},shape_dist_traveled",
                "T1,08:00:00,08:00:00,S1,1,0",
                "T1,,,S2,2,900",
                "T1,,,S3,3,400",
                "T1,08:10:00,08:10:00,S4,4,1000",
                *T2,
            ]
        ),
        [("decreasing_or_equal_stop_time_distance", "stop_times.txt", 1, "repaired", 0)],
        ["T1", "T2"],
        6,
    ),
    "first stop without times": (
        files([HEADER, "T1,,,S1,1", *T1[1:], *T2]),
        [("missing_trip_edge", "stop_times.txt", 1, "dropped", 1)],
        ["T2"],
        2,
    ),
    "stop at (0, 0)": (
        files(stops=stops_with("S3,Three,0.0,0.0")),
        [
            ("point_near_origin", f, n, a, 0)
            for (f, n), a in zip(UNLOCATED_S3, ["repaired", "dropped"], strict=True)
        ],
        ["T1", "T2"],
        5,
    ),
    "stop far outside the feed's area (lat/lon swapped)": (
        files(stops=stops_with("S3,Three,10.03,0.0")),
        [
            ("stop_outside_feed_area", f, n, a, 0)
            for (f, n), a in zip(UNLOCATED_S3, ["repaired", "dropped"], strict=True)
        ],
        ["T1", "T2"],
        5,
    ),
    "used stop without coordinates": (
        files(stops=stops_with("S3,Three,,")),
        [("stop_without_location", f, n, "dropped", 0) for f, n in UNLOCATED_S3],
        ["T1", "T2"],
        5,
    ),
    "stop latitude out of range": (
        files(stops=stops_with("S3,Three,95.0,10.03")),
        [("number_out_of_range", f, n, "dropped", 0) for f, n in UNLOCATED_S3],
        ["T1", "T2"],
        5,
    ),
    "stop latitude not a number": (
        files(stops=stops_with("S3,Three,north,10.03")),
        [("invalid_float", f, n, "dropped", 0) for f, n in UNLOCATED_S3],
        ["T1", "T2"],
        5,
    ),
    "trip with one stop": (
        files([HEADER, *T1, T2[0]]),
        [("unusable_trip", "stop_times.txt", 1, "dropped", 1)],
        ["T1"],
        4,
    ),
    "trip without stop_times": (
        files([HEADER, *T1]),
        [("unused_trip", "trips.txt", 1, "dropped", 1)],
        ["T1"],
        4,
    ),
    "route without trips": (
        files(routes=BASE["routes.txt"] + "\nR2,A,2,Two,3"),
        [("unused_route", "routes.txt", 1, "dropped", 0)],
        ["T1", "T2"],
        6,
    ),
    "route without route_type": (
        files(trips=[*TRIPS[:2], "R2,WK,T2,0"], routes=BASE["routes.txt"] + "\nR2,A,2,Two,"),
        [("missing_required_field", "routes.txt", 1, "dropped", 1)],
        ["T1"],
        4,
    ),
    "unparseable time": (
        files([HEADER, *T1, T2[0], "T2,9h10,9h10,S4,2"]),
        [("invalid_time", "stop_times.txt", 1, "dropped", 1)],
        ["T1"],
        4,
    ),
    "stop_sequence not a number": (
        files([HEADER, *T1, T2[0], "T2,09:10:00,09:10:00,S4,two"]),
        [("invalid_integer", "stop_times.txt", 1, "dropped", 1)],
        ["T1"],
        4,
    ),
}


def notice_rows(feed) -> list[tuple]:
    columns = ["code", "file", "count", "action", "trips_dropped"]
    return [tuple(row) for row in feed.notices[columns].itertuples(index=False)]


@pytest.mark.parametrize("case", list(CASES))
def test_broken_feed_is_repaired_or_trimmed_and_reported(make_feed, case):
    content, expected, trips, rows = CASES[case]
    path = make_feed(files=content)
    with pytest.warns(FeedNoticeWarning, match="see feed.notices"):
        feed = load_feeds(path, date=MONDAY)
    assert notice_rows(feed) == expected
    assert sorted(feed.trips["trip_id"]) == trips
    assert len(feed.stop_times) == rows
    assert set(feed.stop_times["trip_id"]) == set(trips)
    assert set(feed.stop_times["stop_id"]) <= set(feed.stops["stop_id"])
    notices = feed.notices
    assert (notices["severity"] == notices["code"].map(lambda c: CODES[c][0])).all()
    assert (notices["example"].str.len() > 0).all()
    assert (notices["message"].str.contains(f"feed/{notices['file'].iloc[0]}", regex=False)).any()
    counts = feed.sources[0].notice_counts
    assert counts["errors"] == (notices["severity"] == "error").sum()
    assert counts["trips_dropped"] == sum(trips_dropped for *_, trips_dropped in expected)
    # strict=True refuses exactly the feeds with an error notice, with its message.
    errors = notices[notices["severity"] == "error"]
    if len(errors):
        with pytest.raises(FeedError) as info:
            load_feeds(path, date=MONDAY, strict=True)
        assert str(info.value) == errors["message"].iloc[0]
    else:
        assert notice_rows(load_feeds(path, date=MONDAY, strict=True)) == expected


def test_every_code_has_a_broken_feed():
    covered = {code for _, expected, _, _ in CASES.values() for code, *_ in expected}
    assert covered == set(CODES)


def test_one_warning_sums_up_and_names_the_route_that_lost_its_trips(make_feed):
    content = files(
        [HEADER, *T1, T2[0], "T2,08:55:00,08:55:00,S4,2"],
        trips=[*TRIPS[:2], "R2,WK,T2,0"],
        routes=BASE["routes.txt"] + "\nR2,A,2,Two,3",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        feed = load_feeds(make_feed(files=content), date=MONDAY, names=["bus"])
    summaries = [w for w in caught if issubclass(w.category, FeedNoticeWarning)]
    assert len(summaries) == 1
    assert str(summaries[0].message) == (
        "GTFS notices: 1 errors (1 dropped), 0 warnings; 1 trips dropped (50.0% of trips); "
        "routes losing all their trips on the date: ['bus:R2']; see feed.notices"
    )
    assert feed.routes["route_id"].tolist() == ["bus:R1"]
    assert feed.notices["feed"].tolist() == ["bus"]
    assert feed.sources[0].notice_counts == {
        "errors": 1,
        "warnings": 0,
        "infos": 0,
        "repaired": 0,
        "dropped": 1,
        "kept": 0,
        "trips_dropped": 1,
    }


@pytest.mark.parametrize("column", ["route_id", "service_id"])
def test_a_missing_required_column_is_still_refused(make_feed, column):
    header = TRIPS[0].replace(column, "other")
    path = make_feed(files=files(trips=[header, *TRIPS[1:]]))
    with pytest.raises(
        FeedError, match=rf"feed/trips.txt: missing required column\(s\) \['{column}'\]"
    ):
        load_feeds(path, date=MONDAY)


def test_nothing_routable_left_is_refused(make_feed):
    path = make_feed(files=files([HEADER, "T1,,,S1,1", *T1[1:]], trips=TRIPS[:2]))
    with pytest.raises(FeedError, match=r"feed: nothing routable remains on 2024-01-01.*1 trips"):
        load_feeds(path, date=MONDAY)


def test_single_digit_hours_are_valid_gtfs(make_feed):
    path = make_feed(
        files=files([HEADER, "T1,8:00:00,8:00:00,S1,1", "T1,8:10:00,8:10:00,S4,2"], TRIPS[:2])
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", FeedNoticeWarning)
        feed = load_feeds(path, date=MONDAY, strict=True)
    assert feed.notices.empty
    assert feed.stop_times["arrival_time"].tolist() == [28800, 29400]


def test_porto_alegre_loads_clean_with_unchanged_counts(poa_feed):
    assert poa_feed.service_date == POA_DATE
    assert poa_feed.notices.empty
    assert [len(poa_feed.stops), len(poa_feed.trips), len(poa_feed.stop_times)] == [
        4010,
        2903,
        136366,
    ]
    assert all(s.notice_counts["errors"] == 0 for s in poa_feed.sources)


@pytest.mark.parametrize(
    ("fixture", "counts"), [("caltrain_gtfs", (64, 92, 1481)), ("trimet_gtfs", (102, 26, 1377))]
)
def test_partridge_fixtures_load_clean_even_when_strict(request, fixture, counts):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FeedNoticeWarning)
        feed = load_feeds(request.getfixturevalue(fixture), strict=True)
    assert feed.notices.empty
    assert (len(feed.stops), len(feed.trips), len(feed.stop_times)) == counts


def test_cli_validate_exit_codes_and_json(make_feed, capsys):
    clean = make_feed("clean", files([HEADER, *T1], TRIPS[:2]))
    broken = make_feed("broken", files([HEADER, *T1, T2[0], "T2,08:55:00,08:55:00,S4,2"]))
    assert main(["validate", str(clean), "--date", "2024-01-01"]) == 0
    assert "no notices" in capsys.readouterr().out
    assert main(["validate", str(broken), "--date", "2024-01-01"]) == 1
    text = capsys.readouterr().out
    assert "stop_time_with_arrival_before_previous_departure_time" in text and "dropped" in text
    assert main(["validate", str(clean), str(broken), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["service_date"] == "2024-01-01" and out["errors"] == 1 and out["refused"] is None
    assert [(n["feed"], n["code"], n["trips_dropped"]) for n in out["notices"]] == [
        ("broken", "stop_time_with_arrival_before_previous_departure_time", 1)
    ]


def test_cli_validate_unusable_feed_is_1_and_usage_errors_are_2(make_feed, tmp_path, capsys):
    saturday = ["validate", str(make_feed("weekday")), "--date", "2024-01-06"]
    assert main(saturday) == 1
    assert capsys.readouterr().out.startswith("refused: weekday: no service on 2024-01-06")
    assert main(["validate", str(tmp_path / "nothing.zip")]) == 2
    assert "nothing.zip" in capsys.readouterr().err
    assert main(["validate", str(make_feed()), "--date", "next monday"]) == 2
    assert "--date" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["validate"])
    assert info.value.code == 2
