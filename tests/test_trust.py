"""Every user mistake of the trust review gets one line naming the thing and the value.

One test per case found by trying the tool as a new user would (issue 9): each checks
the message names the parameter, file or column and shows the offending value, and
for the CLI that the mistake is caught before any network is built (exit 2).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

import pytest

import transitmile as tm
from transitmile import network as network_module
from transitmile import settings
from transitmile.cli import main
from transitmile.errors import FeedError, NetworkError, RoutingError, TransitmileError
from transitmile.feeds import load_feeds
from transitmile.io import read_points, write_table
from transitmile.streets import UnsnappedPointsWarning

from .gtfs_builder import BASE, write_feed
from .osm_builder import lonlat, points
from .test_travel_time_matrix import DAY, EIGHT, build_town


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return build_town(tmp_path_factory.mktemp("trust_town"))


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if the CLI gets as far as building a network."""

    class Refused:
        def __init__(self, *args, **kwargs):
            raise AssertionError(f"a network was built for a bad argument: {args} {kwargs}")

    monkeypatch.setattr(network_module, "TransportNetwork", Refused)


def run_cli(args, capsys) -> tuple[int, str]:
    code = main(args)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def ttm_args(town, tmp_path, *extra, output=None):
    network, _, _ = town
    csv = tmp_path / "o.csv"
    lon, lat = lonlat(0, 0)
    csv.write_text(f"id,lon,lat\nO,{lon},{lat}\n")
    out = output or tmp_path / "out" / "ttm.csv"
    return [
        "ttm", "--osm", str(network.osm_pbf), "--gtfs", *map(str, network.gtfs),
        "--origins", str(csv), "--departure", "2024-01-15T08:00", "--window", "1",
        "--engine", "embedded", "-o", str(out), *extra,
    ]  # fmt: skip


# ------------------------------------------------------------ GTFS files
def zipped_feed(path: Path, extra: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in BASE.items():
            if name not in extra:
                archive.writestr(name, text.strip() + "\n")
        for name, text in extra.items():
            archive.writestr(zipfile.ZipInfo(name), text)
    return path


@pytest.mark.parametrize("member", ["../../x/stops.txt", "/etc/transitmile/stops.txt"])
def test_zip_member_outside_the_zip_is_refused(tmp_path, member):
    path = zipped_feed(tmp_path / "evil.zip", {member: "stop_id\n"})
    with pytest.raises(FeedError, match=rf"evil.zip: zip member '{member}' has an absolute path"):
        load_feeds(path, date=DAY, progress=False)
    assert not (tmp_path.parent.parent / "x").exists()


def test_stale_gtfs_extractions_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    old, recent = tmp_path / "transitmile-gtfs-killed", tmp_path / "transitmile-gtfs-running"
    for folder in (old, recent):
        folder.mkdir()
        (folder / "stops.txt").write_text("stop_id\n")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    feed = load_feeds(write_feed(tmp_path / "feed", as_zip=True), date=DAY, progress=False)
    assert len(feed.trips) == 1
    assert not old.exists() and recent.exists()
    assert sorted(p.name for p in tmp_path.glob("transitmile-gtfs-*")) == [recent.name]


def test_stop_times_with_only_a_header(tmp_path):
    header = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
    path = write_feed(tmp_path / "hdr", {"stop_times.txt": header})
    with pytest.raises(FeedError, match=r"hdr: nothing routable remains .* \['unused_trip'\]"):
        load_feeds(path, date=DAY, progress=False)


def test_empty_gtfs_file_is_named(tmp_path):
    path = zipped_feed(tmp_path / "feed.zip", {"calendar.txt": "\n"})  # a blank line only
    with pytest.raises(FeedError, match=r"feed.zip: calendar.txt is empty, not even a header"):
        load_feeds(path, date=DAY, progress=False)


def test_text_in_a_stop_coordinate(tmp_path):
    stops = "stop_id,stop_name,stop_lat,stop_lon\nS1,One,north,10\nS2,Two,0,10.01\n"
    path = write_feed(tmp_path / "f", {"stops.txt": stops})
    with pytest.raises(FeedError, match=r"f: nothing routable remains .*'invalid_float'"):
        load_feeds(path, date=DAY, progress=False)
    with pytest.raises(FeedError, match=r"f/stops.txt: column 'stop_lat' .* 'north'"):
        load_feeds(path, date=DAY, progress=False, strict=True)


# ------------------------------------------------------------ point layers
def test_ids_are_read_as_text(tmp_path):
    csv = tmp_path / "o.csv"
    csv.write_text("id,lon,lat,population\n00001,-51.2,-30.0,10\n0042,-51.3,-30.1,20\n")
    layer = read_points(csv, "--origins")
    assert layer["id"].tolist() == ["00001", "0042"]
    assert layer["population"].tolist() == [10, 20]  # other columns keep their types


@pytest.mark.parametrize(
    "text, words",
    [
        ("", ["--origins", "o.csv is empty"]),
        ("id,lon,lat\n", ["--origins", "o.csv has a header but no rows"]),
        ("id,lon,lat\nA,west,-30\n", ["--origins", "'lon'", "'west'", "'A'"]),
        ("id,lon,lat\nA,,-30\n", ["--origins", "'lon'", "'A'"]),
        ("id,lon,lat\n,-51,-30\n", ["--origins", "blank id", "row 1"]),
        ("id,x,y\nA,-51,-30\n", ["--origins", "['lon', 'lat']", "'x'"]),
        ("id,lon,lat\nA,-30.0,-151.2\n", ["--origins", "'A'", "-151.2", "look swapped"]),
    ],
)
def test_bad_origins_csv(tmp_path, text, words):
    csv = tmp_path / "o.csv"
    csv.write_text(text)
    with pytest.raises(TransitmileError) as err:
        read_points(csv, "--origins")
    for word in words:
        assert word in str(err.value)
    assert "\n" not in str(err.value)


def test_swapped_lon_lat_get_a_hint(town):
    network, o, d = town
    swapped = points({"O": (0, 0)})
    swapped.geometry = swapped.geometry.map(lambda p: type(p)(p.y, p.x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsnappedPointsWarning)
        with pytest.raises(RoutingError) as err:
            tm.travel_time_matrix(network, swapped, d, departure=EIGHT, engine="embedded")
    message = str(err.value)
    assert "none of the 1 origins lies within 1600 m" in message
    assert "look swapped" in message and "1 of 1 would lie on the network" in message


# ------------------------------------------------------------ networks
def test_osm_and_gtfs_that_do_not_overlap(town, tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    equator = write_feed(tmp_path / "equator")  # the builder's stops lie at lon 0, lat 0
    with pytest.raises(NetworkError) as err:
        tm.TransportNetwork(town[0].osm_pbf, [equator], DAY, progress=False)
    message = str(err.value)
    assert "none of the 4 transit stops of ['equator'] lies within 1600 m" in message
    assert "town.osm.pbf" in message and "do not overlap" in message


def test_few_stops_on_the_streets_is_a_warning_with_the_count(town, tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    (ax, ay) = lonlat(500, 0)
    far = [lonlat(500, 20_000 + 500 * k) for k in range(3)]  # 20 km from the road
    stops = f"stop_id,stop_name,stop_lat,stop_lon\nA,A,{ay},{ax}\n" + "".join(
        f"S{k + 2},Far,{lat},{lon}\n" for k, (lon, lat) in enumerate(far)
    )
    stop_times = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,08:00:00,08:00:00,A,1\nT1,08:10:00,08:10:00,S2,2\n"
    )
    feed = write_feed(tmp_path / "half", {"stops.txt": stops, "stop_times.txt": stop_times})
    for _ in range(2):  # built, then read from the cache: the warning both times
        with pytest.warns(UnsnappedPointsWarning, match=r"only 1 of 4 transit stops \(25%\)"):
            tm.TransportNetwork(town[0].osm_pbf, [feed], DAY, progress=False)


# ------------------------------------------------------------ output files
def test_sidecar_only_with_its_table(tmp_path, town):
    folder = tmp_path / "ttm.csv"
    folder.mkdir()
    with pytest.raises(TransitmileError, match=r"ttm.csv' is a folder"):
        write_table(tm.travel_time_matrix(town[0], town[1], town[2], departure=EIGHT), folder)
    assert not (tmp_path / "ttm.csv.json").exists()


# ------------------------------------------------------------ the ttm command
@pytest.mark.parametrize(
    "extra, words",
    [
        (["--percentiles", "a,b"], ["--percentiles", "'a,b'"]),
        (["--percentiles", "0,50"], ["--percentiles", "1..99", "0"]),
        (["--window", "-5"], ["--window", "-5 min"]),
        (["--max-time", "0"], ["--max-time", "0 min"]),
        (["--modes", "CAR"], ["--modes", "'CAR'"]),
        (["--speed-walking", "-1"], ["--speed-walking", "-1"]),
        (["--departure", "2024-01-15"], ["--departure", "'2024-01-15'", "a date and a time"]),
        (["--departure", "8:00"], ["--departure", "'8:00'"]),
        (["--names", "a", "b"], ["--names", "1 distinct names", "['a', 'b']"]),
    ],
)
def test_bad_ttm_arguments_before_any_network(town, tmp_path, capsys, no_network, extra, words):
    code, err = run_cli(ttm_args(town, tmp_path, *extra), capsys)
    assert code == 2 and err.count("\n") == 1, err
    for word in words:
        assert word in err, err


@pytest.mark.parametrize("case", ["xlsx", "folder", "parent_is_file", "read_only"])
def test_bad_output_paths_before_any_network(town, tmp_path, capsys, no_network, monkeypatch, case):
    output = {
        "xlsx": tmp_path / "ttm.xlsx",
        "folder": tmp_path / "folder.csv",
        "parent_is_file": tmp_path / "a-file" / "ttm.csv",
        "read_only": tmp_path / "locked" / "ttm.csv",
    }[case]
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "a-file").write_text("")
    (tmp_path / "locked").mkdir()
    if case == "read_only":  # root writes anywhere: the folder is unwritable in os.access
        locked = str(tmp_path / "locked")
        real = os.access
        monkeypatch.setattr(
            os, "access", lambda p, mode: False if str(p) == locked else real(p, mode)
        )
    code, err = run_cli(ttm_args(town, tmp_path, output=output), capsys)
    assert code == 2 and "-o/--output" in err, err
    expected = {
        "xlsx": "must end in .csv or .parquet, got '",
        "folder": "folder.csv' is a folder, not a file",
        "parent_is_file": "a-file' is a file, not a folder",
        "read_only": "no write permission in folder",
    }[case]
    assert expected in err and str(output if case != "folder" else output.name) in err
    assert not list(tmp_path.rglob("*.json"))  # no sidecar without its table


def test_departure_with_utc_offset_is_converted_to_the_agency_timezone(town, tmp_path, capsys):
    args = ttm_args(town, tmp_path)
    args[args.index("--departure") + 1] = "2024-01-15T10:00+02:00"  # the feed's zone is UTC
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "2024-01-15T08:00:00 in the feeds' time zone UTC" in captured.err
    sidecar = json.loads((tmp_path / "out" / "ttm.csv.json").read_text())
    assert sidecar["request"]["departure"] == "2024-01-15T08:00:00"
    assert "travel_time" in (tmp_path / "out" / "ttm.csv").read_text()


def test_departure_offset_without_agency_timezone_is_refused(tmp_path, capsys, no_network, town):
    agency = "agency_id,agency_name,agency_url\nA,Test Agency,https://example.org\n"
    feed = write_feed(tmp_path / "nozone", {"agency.txt": agency})
    args = ttm_args(town, tmp_path)
    args[args.index("--gtfs") + 1] = str(feed)
    args[args.index("--departure") + 1] = "2024-01-15T10:00+02:00"
    code, err = run_cli(args, capsys)
    assert code == 2 and "--departure has a UTC offset" in err and "agency_timezone" in err


def test_feeds_with_the_same_file_name(town, tmp_path, capsys, monkeypatch):
    seen = {}

    class Recorder:
        def __init__(self, osm, gtfs, date, *, names=None, **kwargs):
            seen["names"] = names
            raise NetworkError("stop here")

    monkeypatch.setattr(network_module, "TransportNetwork", Recorder)
    feeds = [write_feed(tmp_path / side / "gtfs", as_zip=True) for side in ("north", "south")]
    args = ttm_args(town, tmp_path)
    at = args.index("--gtfs") + 1
    args[at : at + 1] = map(str, feeds)
    assert run_cli(args, capsys)[0] == 2
    assert seen["names"] == ["north_gtfs", "south_gtfs"]  # automatic, from the parent folders
    assert run_cli([*args, "--names", "bus", "train"], capsys)[0] == 2
    assert seen["names"] == ["bus", "train"]
    same = [write_feed(tmp_path / side / "x" / "gtfs", as_zip=True) for side in ("a", "b")]
    args[at : at + 2] = map(str, same)
    code, err = run_cli(args, capsys)
    assert code == 2 and "share the file name(s) ['gtfs']; give each a name with --names" in err


def test_feed_summary_names_feeds_that_share_a_file_name(tmp_path, capsys):
    feeds = [write_feed(tmp_path / side / "gtfs", as_zip=True) for side in ("north", "south")]
    assert main(["feed-summary", *map(str, feeds), "--date", "2024-01-15", "--json"]) == 0
    names = [s["name"] for s in json.loads(capsys.readouterr().out)["sources"]]
    assert names == ["north_gtfs", "south_gtfs"]
