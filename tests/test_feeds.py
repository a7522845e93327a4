"""GTFS feed layer: hand-worked cases on tiny feeds, then properties of real feeds."""

from __future__ import annotations

import datetime
import json
import textwrap

import numpy as np
import pandas as pd
import pytest

from transitmile.cli import main
from transitmile.errors import FeedError
from transitmile.feeds import (
    busiest_date,
    feed_summary,
    frequent_stops,
    load_feeds,
    route_service,
    stop_service,
)

from .conftest import POA_DATE
from .gtfs_builder import BASE

MONDAY = datetime.date(2024, 1, 1)
BASE_STOPS = textwrap.dedent(BASE["stops.txt"]).strip() + "\n"


def times_of(feed, trip_id):
    rows = feed.stop_times[feed.stop_times["trip_id"] == trip_id]
    return rows["arrival_time"].tolist(), rows["departure_time"].tolist()


# --------------------------------------------------------------------------- interpolation


def test_interpolates_by_straight_line_distance(make_feed):
    # S1..S4 are 1113, 2226, 1113 m apart; 600 s from S1 to S4 split 1:2:1.
    feed = load_feeds(make_feed(), date=MONDAY)
    arrival, departure = times_of(feed, "T1")
    start = 8 * 3600
    assert arrival == [start, start + 150, start + 450, start + 600]
    assert departure == arrival
    assert feed.stop_times["interpolated"].tolist() == [False, True, True, False]
    assert feed.stop_times["arrival_time"].dtype == np.int64


def test_interpolates_by_shape_dist_traveled_when_the_trip_has_it(make_feed):
    stop_times = """
        trip_id,arrival_time,departure_time,stop_id,stop_sequence,shape_dist_traveled
        T1,08:00:00,08:00:00,S1,1,0
        T1,,,S2,2,100
        T1,,,S3,3,400
        T1,08:10:00,08:10:00,S4,4,1000
        T2,09:00:00,09:00:00,S1,1,0
        T2,,,S2,2,
        T2,,,S3,3,400
        T2,09:10:00,09:10:00,S4,4,1000
        """
    trips = """
        route_id,service_id,trip_id
        R1,WK,T1
        R1,WK,T2
        """
    feed = load_feeds(
        make_feed(files={"stop_times.txt": stop_times, "trips.txt": trips}), date=MONDAY
    )
    # T1: 100/1000 and 400/1000 of 600 s.
    assert times_of(feed, "T1")[0] == [28800, 28860, 29040, 29400]
    # T2 misses one shape distance: straight-line distance instead (1:2:1).
    assert times_of(feed, "T2")[0] == [32400, 32550, 32850, 33000]


def test_interpolates_between_intermediate_timepoints_and_fills_one_sided_blanks(make_feed):
    stop_times = """
        trip_id,arrival_time,departure_time,stop_id,stop_sequence
        T1,,08:00:00,S1,1
        T1,,,S2,2
        T1,08:06:00,08:07:00,S3,3
        T1,08:10:00,,S4,4
        """
    feed = load_feeds(make_feed(files={"stop_times.txt": stop_times}), date=MONDAY)
    arrival, departure = times_of(feed, "T1")
    # S2 lies 1/3 of the way from S1 (dep 08:00) to S3 (arr 08:06): 120 s.
    assert arrival == [28800, 28920, 29160, 29400]
    assert departure == [28800, 28920, 29220, 29400]
    # One-sided blanks copy the other time; they are not interpolation.
    assert feed.stop_times["interpolated"].tolist() == [False, True, False, False]


def test_times_past_midnight_are_kept_as_seconds(make_feed):
    stop_times = """
        trip_id,arrival_time,departure_time,stop_id,stop_sequence
        T1,23:55:00,23:55:00,S1,1
        T1,,,S2,2
        T1,,,S3,3
        T1,24:05:00,24:05:00,S4,4
        """
    feed = load_feeds(make_feed(files={"stop_times.txt": stop_times}), date=MONDAY)
    assert times_of(feed, "T1")[0] == [86100, 86250, 86550, 86700]


@pytest.mark.parametrize("row", [1, 4])
def test_first_or_last_stop_without_times_is_an_error(make_feed, row):
    lines = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for seq, stop in enumerate(["S1", "S2", "S3", "S4"], start=1):
        time = "" if seq in (2, 3, row) else f"08:0{seq}:00"
        lines.append(f"T1,{time},{time},{stop},{seq}")
    path = make_feed(files={"stop_times.txt": "\n".join(lines)})
    with pytest.raises(FeedError, match="stop_times.txt") as info:
        load_feeds(path, date=MONDAY, strict=True)
    message = str(info.value)
    assert "'T1'" in message
    assert ("first" if row == 1 else "last") in message
    assert f"S{row}" in message


# --------------------------------------------------------------------------- frequencies

FREQUENCY_FILES = {
    "trips.txt": """
        route_id,service_id,trip_id
        R1,WK,T1
        R1,WK,F
        """,
    "stop_times.txt": """
        trip_id,arrival_time,departure_time,stop_id,stop_sequence
        T1,08:00:00,08:00:00,S1,1
        T1,08:10:00,08:10:00,S4,2
        F,10:00:00,10:00:00,S1,1
        F,,,S2,2
        F,10:20:00,10:20:00,S4,3
        """,
    "frequencies.txt": """
        trip_id,start_time,end_time,headway_secs,exact_times
        F,07:00:00,07:30:00,900,0
        F,06:00:00,07:00:00,1200,1
        """,
}


def test_frequencies_expand_into_scheduled_trips(make_feed):
    feed = load_feeds(make_feed(files=FREQUENCY_FILES), date=MONDAY)
    trips = feed.trips.set_index("trip_id")
    # 06:00, 06:20, 06:40 (07:00 is the end, excluded), then 07:00, 07:15.
    expanded = [f"F#{k}" for k in range(5)]
    assert sorted(trips.index) == sorted(["T1", *expanded])
    assert trips.loc[expanded, "headway_based"].tolist() == [False] * 3 + [True] * 2
    assert trips.loc[expanded, "headway_s"].tolist() == [1200.0] * 3 + [900.0] * 2
    blocks = trips.loc[expanded, "frequency_block"].tolist()
    assert blocks[0] == blocks[1] == blocks[2] != blocks[3] == blocks[4]
    assert trips.loc["T1", "frequency_block"] == -1
    assert not trips.loc["T1", "headway_based"]
    assert np.isnan(trips.loc["T1", "headway_s"])
    starts = [times_of(feed, t)[1][0] for t in expanded]
    assert starts == [21600, 22800, 24000, 25200, 26100]
    # The template's run time (20 min, S2 interpolated at 1/4 of it) is kept.
    assert times_of(feed, "F#3")[0] == [25200, 25500, 26400]
    assert "F" not in set(feed.stop_times["trip_id"])


# --------------------------------------------------------------------------- real feeds


def test_porto_alegre_both_feeds_have_complete_monotone_times(poa_feed):
    st = poa_feed.stop_times
    assert poa_feed.service_date == POA_DATE
    assert len(st) > 100_000
    assert st["interpolated"].mean() > 0.5  # EPTC: most rows are non-timepoints
    for column in ("arrival_time", "departure_time"):
        assert st[column].dtype == np.int64
        assert st[column].notna().all()
    assert (st["departure_time"] >= st["arrival_time"]).all()
    same_trip = st["trip_id"].to_numpy()[1:] == st["trip_id"].to_numpy()[:-1]
    step = st["arrival_time"].to_numpy()[1:] - st["departure_time"].to_numpy()[:-1]
    assert (step[same_trip] >= 0).all()
    assert (np.diff(st["stop_sequence"].to_numpy())[same_trip] > 0).all()
    assert set(poa_feed.stops["feed"]) == {"poa_eptc", "poa_trensurb"}
    assert st["trip_id"].str.startswith(("poa_eptc:", "poa_trensurb:")).all()
    assert set(st["stop_id"]) <= set(poa_feed.stops["stop_id"])
    assert set(st["trip_id"]) == set(poa_feed.trips["trip_id"])
    assert set(poa_feed.routes.loc[poa_feed.routes["feed"] == "poa_trensurb", "route_type"]) == {2}


def test_poa_timepoints_are_untouched(poa_gtfs, poa_feed):
    # Oracle: the timed rows of the raw feed, as partridge parses them.
    import partridge as ptg

    raw = ptg.load_raw_feed(str(poa_gtfs[1])).stop_times
    timed = raw[raw["arrival_time"].notna()].iloc[:200]
    expected = pd.to_timedelta(timed["arrival_time"]).dt.total_seconds().astype("int64")
    ours = poa_feed.stop_times.set_index(["trip_id", "stop_sequence"])["arrival_time"]
    keys = list(
        zip("poa_trensurb:" + timed["trip_id"], timed["stop_sequence"].astype(int), strict=True)
    )
    assert ours.loc[keys].tolist() == expected.tolist()


def test_caltrain_follows_calendar_dates_exceptions(caltrain_gtfs):
    # 2017-07-17 is a Monday; the weekday service is removed on 2017-09-04 (Labor Day),
    # when the Sunday schedule runs instead.
    weekday = load_feeds(caltrain_gtfs, date="2017-07-17")
    labor_day = load_feeds(caltrain_gtfs, date=datetime.date(2017, 9, 4))
    assert len(weekday.trips) == 92
    assert set(weekday.trips["service_id"]) == {"CT-17JUL-Combo-Weekday-01"}
    assert set(labor_day.trips["service_id"]) == {"CT-17JUL-Caltrain-Sunday-01"}
    assert len(labor_day.trips) == 46
    assert weekday.stop_times["interpolated"].sum() == 0


def test_trimet_keeps_transfers_and_unprefixed_ids(trimet_gtfs):
    feed = load_feeds(trimet_gtfs)
    assert feed.service_date == busiest_date(trimet_gtfs)
    assert len(feed.transfers) > 0
    assert not feed.stop_times["trip_id"].str.contains(":").any()
    assert feed.sources[0].name == "trimet-vermont-2018-02-06"
    assert len(feed.sources[0].sha256) == 64


# --------------------------------------------------------------------------- merging, dates


def simple_trips(trip_services: dict[str, str]) -> dict[str, str]:
    """trips.txt and stop_times.txt: each trip S1 -> S4 in 10 minutes, 08:00 + k minutes."""
    trips = ["route_id,service_id,trip_id"]
    times = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for k, (trip, service) in enumerate(trip_services.items()):
        trips.append(f"R1,{service},{trip}")
        times.append(f"{trip},08:{k:02d}:00,08:{k:02d}:00,S1,1")
        times.append(f"{trip},08:{k + 10:02d}:00,08:{k + 10:02d}:00,S4,2")
    return {"trips.txt": "\n".join(trips), "stop_times.txt": "\n".join(times)}


@pytest.fixture
def two_feeds(make_feed):
    # A: weekdays 2 trips, plus 2 extra trips on Tue 2024-01-02 -> busiest alone: Jan 2 (4).
    a = make_feed(
        "a",
        {
            **simple_trips({"T1": "WK", "T2": "WK", "X1": "X", "X2": "X"}),
            "calendar_dates.txt": "service_id,date,exception_type\nX,20240102,1",
        },
    )
    # B: only calendar_dates: 3 trips on Wed Jan 3, 4 trips on Sat Jan 6 -> alone: Jan 6.
    b = make_feed(
        "b",
        {
            **simple_trips({f"W{i}": "W" for i in range(3)} | {f"S{i}": "S" for i in range(4)}),
            "calendar.txt": None,
            "calendar_dates.txt": "service_id,date,exception_type\nW,20240103,1\nS,20240106,1",
        },
    )
    return a, b


def test_busiest_date_is_taken_over_all_feeds_together(two_feeds):
    a, b = two_feeds
    assert busiest_date(a) == datetime.date(2024, 1, 2)
    assert busiest_date(b) == datetime.date(2024, 1, 6)
    # Together: Jan 2 has 4 + 0, Jan 3 has 2 + 3 = 5, Jan 6 has 0 + 4.
    assert busiest_date([a, b]) == datetime.date(2024, 1, 3)
    feed = load_feeds([a, b])
    assert feed.service_date == datetime.date(2024, 1, 3)
    assert sorted(feed.trips["trip_id"]) == ["a:T1", "a:T2", "b:W0", "b:W1", "b:W2"]


def test_merged_feeds_keep_same_ids_apart(two_feeds):
    a, b = two_feeds
    feed = load_feeds([a, b], date="2024-01-03")
    # Both feeds have stops S1..S4 and route R1: prefixed, never merged.
    assert sorted(feed.stops["stop_id"]) == sorted(f"{f}:S{i}" for f in "ab" for i in range(1, 5))
    assert sorted(feed.routes["route_id"]) == ["a:R1", "b:R1"]
    assert set(feed.routes["agency_id"]) == {"a:A", "b:A"}
    assert feed.stop_times.loc[feed.stop_times["trip_id"] == "b:W0", "stop_id"].tolist() == [
        "b:S1",
        "b:S4",
    ]
    assert [s.name for s in feed.sources] == ["a", "b"]
    renamed = load_feeds([a, b], date="2024-01-03", names=["bus", "rail"])
    assert set(renamed.stops["feed"]) == {"bus", "rail"}
    assert "rail:S1" in set(renamed.stops["stop_id"])


def test_names_given_for_one_feed_prefix_its_ids(make_feed):
    feed = load_feeds(make_feed(), date=MONDAY, names=["x"])
    assert set(feed.stop_times["trip_id"]) == {"x:T1"}


def test_duplicate_feed_names_are_an_error(tmp_path, make_feed):
    first = make_feed("one/gtfs")
    second = make_feed("two/gtfs")
    with pytest.raises(FeedError, match=r"names: .*\['gtfs'\]"):
        load_feeds([first, second], date=MONDAY)
    with pytest.raises(FeedError, match="one name per feed"):
        load_feeds([first, second], date=MONDAY, names=["only"])


def test_no_service_on_the_date_lists_the_valid_range(make_feed):
    with pytest.raises(FeedError) as info:
        load_feeds(make_feed("weekday"), date=datetime.date(2024, 1, 6))  # a Saturday
    message = str(info.value)
    assert "no service on 2024-01-06" in message
    assert "2024-01-01 to 2024-01-31" in message
    assert "weekday" in message


def test_bad_date_argument_is_an_error(make_feed):
    with pytest.raises(FeedError, match="date: .*'next monday'"):
        load_feeds(make_feed(), date="next monday")


# --------------------------------------------------------------------------- opening, sources


def test_zip_with_the_feed_in_a_sub_folder_is_accepted(make_feed):
    path = make_feed("nested", as_zip=True, subfolder="gtfs_2024")
    feed = load_feeds(path, date=MONDAY)
    assert len(feed.stop_times) == 4
    assert feed.sources[0].name == "nested"
    from transitmile.data import file_sha256

    assert feed.sources[0].sha256 == file_sha256(path)


def test_folder_hash_depends_on_content(make_feed):
    one = load_feeds(make_feed("f1"), date=MONDAY).sources[0].sha256
    same = load_feeds(make_feed("f2"), date=MONDAY).sources[0].sha256
    other = load_feeds(
        make_feed("f3", {"stops.txt": BASE_STOPS.replace("0.03", "0.02")}), date=MONDAY
    )
    assert one == same != other.sources[0].sha256


def test_path_that_is_neither_zip_nor_folder(tmp_path):
    path = tmp_path / "feed.txt"
    path.write_text("not a feed")
    with pytest.raises(FeedError, match="feed.txt.*neither a GTFS zip file nor a folder"):
        load_feeds(path, date=MONDAY)
    with pytest.raises(FeedError, match="not found"):
        load_feeds(tmp_path / "missing.zip", date=MONDAY)


def test_zip_without_required_files_names_them(make_feed):
    path = make_feed("partial", {"stops.txt": None, "routes.txt": None}, as_zip=True)
    with pytest.raises(FeedError, match=r"partial.zip.*\['routes.txt', 'stops.txt'\]"):
        load_feeds(path, date=MONDAY)


# --------------------------------------------------------------------------- malformed values


def with_time(value: str) -> str:
    return f"""
        trip_id,arrival_time,departure_time,stop_id,stop_sequence
        T1,08:00:00,08:00:00,S1,1
        T1,{value},{value},S2,2
        T1,08:10:00,08:10:00,S4,3
        """


@pytest.mark.parametrize(
    ("value", "word"), [("8h05", "unparseable"), ("-00:05:00", "negative"), ("08:75:00", ">= 60")]
)
def test_bad_times_name_file_column_and_row(make_feed, value, word):
    path = make_feed(files={"stop_times.txt": with_time(value)})
    with pytest.raises(FeedError) as info:
        load_feeds(path, date=MONDAY, strict=True)
    message = str(info.value)
    for part in ("stop_times.txt", "'arrival_time'", value, word, "'S2'", "'T1'"):
        assert part in message


def test_stops_used_without_coordinates_are_named(make_feed):
    stops = BASE_STOPS.replace("S2,Two,0.0,10.01", "S2,Two,,") + "S9,Unused,,\n"
    feed_path = make_feed(files={"stops.txt": stops})
    with pytest.raises(FeedError) as info:
        load_feeds(feed_path, date=MONDAY, strict=True)
    message = str(info.value)
    assert "stops.txt" in message and "stop_lat" in message and "['S2']" in message


def test_unused_stops_without_coordinates_are_dropped(make_feed):
    feed = load_feeds(make_feed(files={"stops.txt": BASE_STOPS + "S9,Entrance,,\n"}), date=MONDAY)
    assert sorted(feed.stops["stop_id"]) == ["S1", "S2", "S3", "S4"]


def test_duplicate_stop_id(make_feed):
    with pytest.raises(FeedError, match=r"stops.txt: duplicate stop_id 'S2'.*0.5"):
        load_feeds(
            make_feed(files={"stops.txt": BASE_STOPS + "S2,Again,0.5,0.5\n"}),
            date=MONDAY,
            strict=True,
        )


def test_stop_sequence_must_increase(make_feed):
    stop_times = """
        trip_id,arrival_time,departure_time,stop_id,stop_sequence
        T1,08:00:00,08:00:00,S1,1
        T1,,,S2,2
        T1,08:10:00,08:10:00,S4,2
        """
    with pytest.raises(FeedError) as info:
        load_feeds(make_feed(files={"stop_times.txt": stop_times}), date=MONDAY, strict=True)
    message = str(info.value)
    assert "stop_times.txt" in message and "stop_sequence" in message
    assert "'T1'" in message and "repeats stop_sequence 2" in message


def test_non_numeric_stop_sequence(make_feed):
    path = make_feed(files={"stop_times.txt": with_time("08:05:00").replace(",2\n", ",two\n")})
    with pytest.raises(FeedError, match=r"stop_times.txt: column 'stop_sequence'.*'two'"):
        load_feeds(path, date=MONDAY, strict=True)


def test_stop_times_with_an_unknown_stop(make_feed):
    path = make_feed(files={"stop_times.txt": with_time("08:05:00").replace("S2", "S7")})
    with pytest.raises(FeedError, match=r"stop_times.txt: stop_id 'S7' is not in stops.txt"):
        load_feeds(path, date=MONDAY, strict=True)


def test_times_going_backwards(make_feed):
    path = make_feed(files={"stop_times.txt": with_time("07:55:00")})
    with pytest.raises(FeedError, match=r"times go backwards along trip 'T1'"):
        load_feeds(path, date=MONDAY, strict=True)


# --------------------------------------------------------------------------- service levels

SERVICE_FILES = {
    "routes.txt": """
        route_id,agency_id,route_short_name,route_long_name,route_type
        R1,A,1,One,3
        R2,A,2,Two,0
        """,
    "trips.txt": """
        route_id,service_id,trip_id
        R1,WK,T1
        R1,WK,T2
        R2,WK,T3
        R1,WK,T4
        """,
    "stop_times.txt": """
        trip_id,arrival_time,departure_time,stop_id,stop_sequence
        T1,07:00:00,07:00:00,S1,1
        T1,07:05:00,07:05:00,S2,2
        T1,07:10:00,07:10:00,S4,3
        T2,07:30:00,07:30:00,S1,1
        T2,07:35:00,07:35:00,S2,2
        T2,07:40:00,07:40:00,S4,3
        T3,08:50:00,08:50:00,S2,1
        T3,08:55:00,08:55:00,S3,2
        T3,09:05:00,09:05:00,S4,3
        T4,09:00:00,09:00:00,S1,1
        T4,09:10:00,09:10:00,S4,2
        """,
}


@pytest.fixture
def service_feed(make_feed):
    return load_feeds(make_feed("svc", SERVICE_FILES), date=MONDAY)


def test_stop_service_counts_departures_in_the_window(service_feed):
    table = stop_service(service_feed, start="07:00", end="09:00").set_index("stop_id")
    # S1: T1, T2 (T4 leaves at 09:00, outside [07:00, 09:00)); S2: T1, T2, T3;
    # S3: T3; S4 is every trip's last stop, so no departures.
    assert table["trips"].to_dict() == {"S1": 2, "S2": 3, "S3": 1, "S4": 0}
    assert table["trips_per_hour"].to_dict() == {"S1": 1.0, "S2": 1.5, "S3": 0.5, "S4": 0.0}
    assert table.loc[["S1", "S2", "S3"], "mean_headway_min"].tolist() == [60.0, 40.0, 120.0]
    assert np.isnan(table.loc["S4", "mean_headway_min"])
    assert table["n_routes"].to_dict() == {"S1": 1, "S2": 2, "S3": 1, "S4": 0}
    assert table.loc["S2", "stop_name"] == "Two"
    # Seconds work as well as "HH:MM"; 09:00 is included by a window ending later.
    later = stop_service(service_feed, start=7 * 3600, end="09:01").set_index("stop_id")
    assert later.loc["S1", "trips"] == 3


def test_frequent_stops_filters_on_mean_headway(service_feed):
    assert frequent_stops(service_feed, "07:00", "09:00", max_headway_min=45)[
        "stop_id"
    ].tolist() == ["S2"]
    assert sorted(
        frequent_stops(service_feed, "07:00", "09:00", max_headway_min=60)["stop_id"]
    ) == [
        "S1",
        "S2",
    ]
    with pytest.raises(FeedError, match="max_headway_min"):
        frequent_stops(service_feed, max_headway_min=0)


def test_route_service_counts_trips_leaving_their_first_stop(service_feed):
    table = route_service(service_feed, "07:00", "09:00").set_index("route_id")
    assert table["trips"].to_dict() == {"R1": 2, "R2": 1}
    assert table["mean_headway_min"].to_dict() == {"R1": 60.0, "R2": 120.0}
    assert table["peak_direction_trips"].to_dict() == {"R1": 2, "R2": 1}
    assert table["n_stops"].to_dict() == {"R1": 2, "R2": 2}
    assert table["mode"].to_dict() == {"R1": "bus", "R2": "tram"}


@pytest.mark.parametrize(
    ("start", "end", "match"),
    [("09:00", "07:00", "end: the time window"), ("7am", "09:00", "start: expected")],
)
def test_bad_window(service_feed, start, end, match):
    with pytest.raises(FeedError, match=match):
        stop_service(service_feed, start, end)


def test_feed_summary_one_row_per_feed_and_a_total(two_feeds):
    summary = feed_summary(load_feeds(list(two_feeds), date="2024-01-03")).set_index("feed")
    assert summary.index.tolist() == ["a", "b", "total"]
    assert summary["trips"].tolist() == [2, 3, 5]
    assert summary["routes_bus"].tolist() == [1, 1, 2]
    assert summary["stops"].tolist() == [4, 4, 8]
    # a: 08:00, 08:01; b: 08:00, 08:01, 08:02 (each trip's S1 departure).
    assert summary["first_departure"].tolist() == ["08:00:00"] * 3
    assert summary["last_departure"].tolist() == ["08:01:00", "08:02:00", "08:02:00"]
    assert summary.loc["total", "service_span_h"] == pytest.approx(2 / 60)


def test_poa_frequent_stops_in_the_morning_peak(poa_feed):
    frequent = frequent_stops(poa_feed, "07:00", "09:00")
    assert len(frequent) > 0
    assert (frequent["mean_headway_min"] <= 15).all()
    assert (frequent["trips"] >= 8).all()
    # The r5r sample of EPTC only runs 11:20-17:50; at 14:00-16:00 buses dominate.
    afternoon = frequent_stops(poa_feed, "14:00", "16:00")
    assert afternoon["stop_id"].str.startswith("poa_eptc:").sum() > 1000


def test_poa_stop_service_agrees_with_a_direct_count(poa_feed):
    # Oracle: count departures at one busy stop by hand from the raw stop_times.
    table = stop_service(poa_feed, "14:00", "16:00").set_index("stop_id")
    stop = table["trips"].idxmax()
    st = poa_feed.stop_times
    last = st["trip_id"].ne(st["trip_id"].shift(-1))
    here = st[(st["stop_id"] == stop) & ~last]
    expected = here["departure_time"].between(14 * 3600, 16 * 3600 - 1).sum()
    assert table.loc[stop, "trips"] == expected


# --------------------------------------------------------------------------- command line


def test_cli_feed_summary_json(make_feed, capsys):
    path = make_feed("svc", SERVICE_FILES)
    code = main(["feed-summary", str(path), "--date", "2024-01-01", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["service_date"] == "2024-01-01"
    assert out["summary"][0]["trips"] == 4
    assert out["stop_service"]["stops_with_service"] == 3
    assert out["stop_service"]["frequent_stops"] == 0


def test_cli_text_output_and_datasets(make_feed, capsys):
    path = make_feed("svc", SERVICE_FILES)
    assert main(["feed-summary", str(path), "--date", "2024-01-01", "--max-headway", "60"]) == 0
    assert "2 are frequent" in capsys.readouterr().out
    assert main(["datasets"]) == 0
    assert "porto_alegre" in capsys.readouterr().out


def test_cli_user_error_is_one_line_and_exit_2(tmp_path, capsys):
    code = main(["feed-summary", str(tmp_path / "nothing.zip")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("transitmile: error: GTFS feed") and "nothing.zip" in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_write_gtfs_round_trips_complete_times(poa_feed, tmp_path):
    """The written folder loads back with the same trips and times, none interpolated."""
    from transitmile.feeds import load_feeds, write_gtfs

    folder = write_gtfs(poa_feed, tmp_path / "poa_complete")
    again = load_feeds([folder], date=poa_feed.service_date)
    assert len(again.trips) == len(poa_feed.trips)
    assert len(again.stop_times) == len(poa_feed.stop_times)
    assert not again.stop_times["interpolated"].any()
    merged = poa_feed.stop_times.merge(
        again.stop_times, on=["trip_id", "stop_sequence"], suffixes=("", "_again")
    )
    assert len(merged) == len(poa_feed.stop_times)
    assert (merged["departure_time"] == merged["departure_time_again"]).all()
    assert (merged["arrival_time"] == merged["arrival_time_again"]).all()
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
