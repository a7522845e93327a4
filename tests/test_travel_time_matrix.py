"""travel_time_matrix end to end on a tiny hand-made town, every value worked out by hand.

The town: one straight road 6 km long (nodes every 500 m) and one bus line from stop A
(x = 500 m) to stop B (x = 5,500 m), departing A every 10 minutes from 08:10 and taking
10 minutes. Origin O sits at x = 0, destination D at x = 6,000 m. Walking at 3.6 km/h is
one metre per second: O -> A takes 500 s, B -> D 500 s, O -> D on foot 6,000 s.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pytest

import transitmile as tm
from transitmile import settings
from transitmile.engines.access import AccessService
from transitmile.errors import RoutingError
from transitmile.sparse import sparse_times_from_dense
from transitmile.streets import UnsnappedPointsWarning

from .gtfs_builder import write_feed
from .osm_builder import lonlat, points, write_osm

DAY = dt.date(2024, 1, 15)  # a Monday in the builder's weekday service
EIGHT = dt.datetime(2024, 1, 15, 8, 0)


def build_town(folder, trips: int = 5, frequencies: str | None = None):
    """The town's street and bus line; ``frequencies`` makes the first trip a template."""
    nodes = {i + 1: (500.0 * i, 0.0) for i in range(13)}
    road = [(100, list(nodes), {"highway": "residential"})]
    osm = write_osm(folder / "town.osm.pbf", nodes, road)
    (ax, ay), (bx, by) = lonlat(500, 0), lonlat(5500, 0)
    departures = [f"08:{m:02d}:00" for m in (10, 20, 30, 40, 50)][:trips]
    arrivals = ([f"08:{m:02d}:00" for m in (20, 30, 40, 50)] + ["09:00:00"])[:trips]
    trip_rows = "\n".join(f"R1,WK,T{k},0" for k in range(trips))
    stop_times = "\n".join(
        f"T{k},{dep},{dep},A,1\nT{k},{arr},{arr},B,2"
        for k, (dep, arr) in enumerate(zip(departures, arrivals, strict=True))
    )
    files = {
        "stops.txt": f"stop_id,stop_name,stop_lat,stop_lon\nA,A,{ay},{ax}\nB,B,{by},{bx}\n",
        "trips.txt": f"route_id,service_id,trip_id,direction_id\n{trip_rows}\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        + stop_times
        + "\n",
    }
    if frequencies:
        files["frequencies.txt"] = frequencies
    gtfs = write_feed(folder / "bus", files)
    saved = settings.cache_dir
    settings.cache_dir = folder / "cache"
    try:
        network = tm.TransportNetwork(osm, [gtfs], DAY, progress=False)
    finally:
        settings.cache_dir = saved
    return network, points({"O": (0, 0)}), points({"D": (6000, 0)})


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return build_town(tmp_path_factory.mktemp("town"))


@pytest.fixture(scope="module")
def frequency_town(tmp_path_factory):
    # the same bus every 10 minutes from 08:10 to 09:00, headway-based (exact_times 0)
    rows = "trip_id,start_time,end_time,headway_secs,exact_times\nT0,08:10:00,09:00:00,600,0\n"
    return build_town(tmp_path_factory.mktemp("frequency_town"), trips=1, frequencies=rows)


def ttm(town, **kwargs):
    network, o, d = town
    kwargs.setdefault("departure", EIGHT)
    return tm.travel_time_matrix(network, o, d, engine="embedded", progress=False, **kwargs)


def test_one_departure_minute(town):
    # leave 08:00:00, at A 08:08:20, +60 s boarding slack -> the 08:10 bus, at B 08:20:00,
    # at D 08:28:20: 1,700 s -> 28 whole minutes (R5 floors seconds to minutes)
    frame = ttm(town, departure_time_window=dt.timedelta(minutes=1))
    assert frame.to_dict("records") == [{"from_id": "O", "to_id": "D", "travel_time": 28.0}]
    assert frame.attrs["engine"] == "embedded"


def test_ten_minute_window_percentiles(town):
    # minute m leaves 08:0m. m=0 makes the 08:10 bus (1,700 s); from m=1 on, arriving at A
    # at 08:09:20 + 60 s slack misses it: the 08:20 bus reaches D at 08:38:20, 2,300 - 60 m s.
    # sorted: 1700 1760 1820 1880 1940 2000 2060 2120 2180 2240 (m = 0, 9, 8, ..., 1)
    # R5's percentile index ceil(p/100 * 10) - 1: p25 -> 2 (1,820 s = 30 min),
    # p50 -> 4 (1,940 s = 32 min), p75 -> 7 (2,120 s = 35 min)
    frame = ttm(town, percentiles=(25, 50, 75))
    row = frame.iloc[0]
    assert (row.travel_time_p25, row.travel_time_p50, row.travel_time_p75) == (30.0, 32.0, 35.0)
    median = ttm(town)
    assert median["travel_time"].tolist() == [32.0]


def test_breakdown_of_the_median_trip(town):
    # the median iteration departs 08:06: walk 500 s, wait 08:14:20 -> 08:20 (340 s incl.
    # slack), ride 600 s, no transfer, walk 500 s; 1,940 s in all
    frame = ttm(town, breakdown=True)
    row = frame.iloc[0]
    assert row.access_time == pytest.approx(500 / 60)
    assert row.wait_time == pytest.approx(340 / 60)
    assert row.in_vehicle_time == pytest.approx(600 / 60)
    assert row.transfer_time == pytest.approx(0.0)
    assert row.egress_time == pytest.approx(500 / 60)


def test_street_only_modes(town):
    walk = ttm(town, transport_modes=("WALK",))
    assert walk["travel_time"].tolist() == [100.0]  # 6,000 s
    bike = ttm(town, transport_modes=("BICYCLE",))
    assert bike["travel_time"].tolist() == [30.0]  # 6,000 m at 12 km/h = 1,800 s
    short = ttm(town, transport_modes=("WALK",), max_time=dt.timedelta(minutes=90))
    assert np.isnan(short["travel_time"].iloc[0])


def test_bike_access_reaches_the_earlier_bus(town):
    # 500 m at 12 km/h = 150 s: at A at 08:0m:00 + 150 s, + 60 s slack <= 08:10 up to m=6:
    # m=0..6 reach D at 08:28:20 (1,700 - 60 m s), m=7..9 take the 08:20 bus (2,300 - 60 m s).
    # sorted: 1340 1400 1460 1520 1580 1640 1700 1760 1820 1880 -> index 4: 1,580 s = 26 min
    frame = ttm(town, access_modes=("BICYCLE",), egress_modes=("WALK",))
    assert frame["travel_time"].tolist() == [26.0]


def test_unsnappable_origin_is_missing_with_a_warning(town):
    network, o, d = town
    far = points({"O": (0, 0), "far": (0, 5000)})
    with pytest.warns(UnsnappedPointsWarning, match="far"):
        frame = tm.travel_time_matrix(network, far, d, departure=EIGHT, engine="embedded")
    assert frame.set_index("from_id")["travel_time"].isna().to_dict() == {"O": False, "far": True}


def test_no_origin_snapped_is_an_error(town):
    network, o, d = town
    with warnings.catch_warnings(), pytest.raises(RoutingError, match="none of the 1 origins"):
        warnings.simplefilter("ignore", UnsnappedPointsWarning)
        tm.travel_time_matrix(network, points({"far": (0, 5000)}), d, departure=EIGHT)


def test_departure_on_another_day_is_refused(town):
    with pytest.raises(RoutingError, match="2024-01-16.*service date 2024-01-15"):
        ttm(town, departure=dt.datetime(2024, 1, 16, 8, 0))


def test_destinations_default_to_origins_and_self_is_zero(town):
    network, o, d = town
    both = points({"O": (0, 0), "D": (6000, 0)})
    frame = tm.travel_time_matrix(network, both, departure=EIGHT, engine="embedded")
    assert frame.set_index(["from_id", "to_id"])["travel_time"].to_dict() == {
        ("O", "O"): 0.0,
        ("O", "D"): 32.0,
        ("D", "O"): 100.0,  # no bus back: walking
        ("D", "D"): 0.0,
    }


def test_results_record_how_they_were_produced(town):
    frame = ttm(town)
    attrs = frame.attrs
    assert attrs["engine"] == "embedded"
    assert attrs["request"]["departure"] == "2024-01-15T08:00:00"
    assert attrs["request"]["percentiles"] == (50,)
    assert attrs["network"]["gtfs"][0]["sha256"]
    assert attrs["network"]["gtfs"][0]["notices"]["errors"] == 0
    assert attrs["network"]["gtfs"][0]["notices"]["trips_dropped"] == 0
    assert attrs["network"]["osm_pbf"]["sha256"]
    assert attrs["versions"]["numba"]
    assert attrs["engine_version"].startswith("transitmile ")
    assert "embedded range RAPTOR" in attrs["engine_version"]


def test_network_is_cached_by_input_hashes(town, tmp_path, monkeypatch):
    network, o, d = town
    monkeypatch.setattr(settings, "cache_dir", tmp_path)
    first = tm.TransportNetwork(network.osm_pbf, network.gtfs, DAY, progress=False)
    second = tm.TransportNetwork(network.osm_pbf, network.gtfs, DAY, progress=False)
    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert second.cache_path == first.cache_path and first.cache_path.is_file()
    assert len(second.stops) == 2


def test_cli_ttm_writes_table_and_provenance(town, tmp_path, capsys):
    from transitmile.cli import main

    network, o, d = town
    csv = tmp_path / "o.csv"
    lon, lat = lonlat(0, 0)
    csv.write_text(f"id,lon,lat\nO,{lon},{lat}\n")
    out = tmp_path / "out" / "ttm.csv"
    code = main(
        ["ttm", "--osm", str(network.osm_pbf), "--gtfs", *map(str, network.gtfs),
         "--origins", str(csv), "--departure", "2024-01-15T08:00", "--window", "1",
         "--engine", "embedded", "-o", str(out)]
    )  # fmt: skip
    assert code == 0
    import json

    import pandas as pd

    table = pd.read_csv(out)
    assert table.to_dict("records") == [{"from_id": "O", "to_id": "O", "travel_time": 0.0}]
    meta = json.loads(out.with_name("ttm.csv.json").read_text())
    assert meta["engine"] == "embedded" and meta["request"]["departure_time_window_s"] == 60
    assert sorted(p.name for p in out.parent.iterdir()) == ["ttm.csv", "ttm.csv.json"]
    assert "1 origin-destination pairs" in capsys.readouterr().out


def test_cli_ttm_partitioned_writes_one_part_per_chunk(town, tmp_path, capsys):
    # O and D both as origins and destinations, one origin per chunk: two parts.
    # O -> D: walk 500 s to A, 60 s slack, bus 08:10 -> 08:20, walk 500 s: 08:28:20 -> 28.
    # D -> O: the bus runs A -> B only, so walking 6,000 s: 100 min (under 120).
    import json

    import pandas as pd

    from transitmile.cli import main

    network, o, d = town
    csv = tmp_path / "o.csv"
    (olon, olat), (dlon, dlat) = lonlat(0, 0), lonlat(6000, 0)
    csv.write_text(f"id,lon,lat\nO,{olon},{olat}\nD,{dlon},{dlat}\n")
    out = tmp_path / "ttm"
    code = main(
        ["ttm", "--osm", str(network.osm_pbf), "--gtfs", *map(str, network.gtfs),
         "--origins", str(csv), "--departure", "2024-01-15T08:00", "--window", "1",
         "--engine", "embedded", "--partitioned", "--chunk-size", "1", "-o", str(out)]
    )  # fmt: skip
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "_manifest.json",
        "_provenance.json",
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    assert pd.read_parquet(out).to_dict("records") == [
        {"from_id": "O", "to_id": "O", "travel_time": 0.0},
        {"from_id": "O", "to_id": "D", "travel_time": 28.0},
        {"from_id": "D", "to_id": "O", "travel_time": 100.0},
        {"from_id": "D", "to_id": "D", "travel_time": 0.0},
    ]
    manifest = json.loads((out / "_manifest.json").read_text())
    assert [p["rows"] for p in manifest["parts"]] == [2, 2]
    assert "4 origin-destination pairs in 2 parts" in capsys.readouterr().out
    code = main(
        ["ttm", "--osm", str(network.osm_pbf), "--gtfs", *map(str, network.gtfs),
         "--origins", str(csv), "--departure", "2024-01-15T08:00", "--partitioned",
         "-o", str(tmp_path / "t.parquet")]
    )  # fmt: skip
    assert code == 2
    assert "--partitioned: -o must be a folder" in capsys.readouterr().err
    # a folder of someone else's files is refused before any input is read
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    code = main(["ttm", "--osm", "missing.pbf", "--gtfs", "missing.zip", "--origins", str(csv),
                 "--departure", "2024-01-15T08:00", "--partitioned", "-o", str(mine)])  # fmt: skip
    assert code == 2
    assert "holds files that are not parts of a travel time matrix" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "keep me"


def test_walking_matrix_written_in_parts_is_the_frame(town, tmp_path):
    # Without transit the street times are written block by block: O <-> D is 6,000 m
    # on foot at 1 m/s, 100 min each way.
    import geopandas as gpd
    import pandas as pd

    network, o, d = town
    both = gpd.GeoDataFrame(pd.concat([o, d], ignore_index=True), crs=o.crs)
    options = {"departure": EIGHT, "transport_modes": ("WALK",), "progress": False}
    folder = tm.write_travel_time_matrix(
        network, both, path=tmp_path / "walk", chunk_size=1, **options
    )
    frame = tm.travel_time_matrix(network, both, **options)
    assert frame["travel_time"].tolist() == [0.0, 100.0, 100.0, 0.0]
    back = tm.read_travel_time_matrix(folder)
    pd.testing.assert_frame_equal(back, frame)
    assert back.attrs["engine_reason"].startswith("partitioned output")
    with pytest.raises(RoutingError, match="unknown parameter 'speed'"):
        tm.write_travel_time_matrix(network, both, path=tmp_path / "x", speed=5, **options)
    # object storage by fsspec URL (here fsspec's in-memory file system)
    url = tm.write_travel_time_matrix(network, both, path="memory://walk", chunk_size=1, **options)
    assert url == "memory://walk"
    pd.testing.assert_frame_equal(tm.read_travel_time_matrix(url), frame)
    # a file name ending in .parquet is one file with its sidecar, as write_table writes
    single = tm.write_travel_time_matrix(network, both, path=tmp_path / "walk.parquet", **options)
    pd.testing.assert_frame_equal(pd.read_parquet(single), frame)
    assert (tmp_path / "walk.parquet.json").is_file()


def test_cli_ttm_bad_input_is_one_line(tmp_path, capsys):
    from transitmile.cli import main

    csv = tmp_path / "o.csv"
    csv.write_text("name,x,y\na,1,2\n")
    code = main(["ttm", "--osm", "x.pbf", "--gtfs", "g.zip", "--origins", str(csv),
                 "--departure", "2024-01-15T08:00", "-o", str(tmp_path / "t.csv")])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "--origins" in err and "['id', 'lon', 'lat']" in err and "Traceback" not in err


def test_headway_based_bus_is_used_with_an_uncertain_wait(frequency_town):
    # At A by 08:08:20 (+60 s slack), the first bus leaves at 08:10 + phase, phase uniform in
    # [0, 600) s: travel time 1,700 s + phase, i.e. 28..38 minutes with median near 33.
    # An engine that ignored frequencies.txt would report walking (100 min) instead.
    frame = ttm(
        frequency_town, departure_time_window=dt.timedelta(minutes=1), percentiles=(5, 50, 95)
    )
    p5, p50, p95 = frame.iloc[0][["travel_time_p5", "travel_time_p50", "travel_time_p95"]]
    assert 28 <= p5 <= p50 <= p95 <= 38
    assert 30 <= p50 <= 36
    assert p95 - p5 >= 6  # the phase draws show up as spread
    again = ttm(
        frequency_town, departure_time_window=dt.timedelta(minutes=1), percentiles=(5, 50, 95)
    )
    assert again.equals(frame)  # seeded draws: reproducible


def test_auto_hands_plain_requests_to_r5py_where_usable(town, monkeypatch):
    """The request travel_time_matrix builds must be one R5 can take (and breakdown not)."""
    from transitmile.engines import r5
    from transitmile.engines.embedded import run_embedded

    network, o, d = town
    status = r5.R5Status(True, "test: R5 usable", None, "21.0.1", None)
    monkeypatch.setattr(r5, "_status_for_environment", lambda key: status)
    calls = []

    def stand_in(network, origins, destinations, request, progress=None):
        calls.append(request)
        frame = run_embedded(network, origins, destinations, request)
        frame.attrs = {"engine": "r5py"}
        return frame

    monkeypatch.setattr(r5, "run_r5py", stand_in)
    frame = tm.travel_time_matrix(network, o, d, departure=EIGHT, engine="auto")
    assert frame.attrs["engine"] == "r5py" and len(calls) == 1
    assert calls[0].options == {}
    with_breakdown = tm.travel_time_matrix(network, o, d, departure=EIGHT, breakdown=True)
    assert with_breakdown.attrs["engine"] == "embedded"  # R5 has no breakdown: auto says so
    assert "breakdown" in with_breakdown.attrs["engine_reason"]


# ----------------------------------------------------------------------- access services


class HandMadeDocks(AccessService):
    """Bike-share docks next to O and D: O -> stop A in ``access_s``, stop B -> D in ``egress_s``.

    None leaves that leg out (the service then offers no access / no egress).
    """

    name = "hand-made docks"

    def __init__(self, access_s=None, egress_s=None, shape_error=False):
        self.access_s, self.egress_s, self.shape_error = access_s, egress_s, shape_error

    def access_times(self, network, origins, request):
        if self.access_s is None:
            return None
        stops = list(network.stops["id"])
        dense = np.full((len(origins), len(stops) + self.shape_error), np.nan)
        dense[list(origins["id"]).index("O"), stops.index("A")] = self.access_s
        return sparse_times_from_dense(dense)

    def egress_times(self, network, destinations, request):
        if self.egress_s is None:
            return None
        stops = list(network.stops["id"])
        dense = np.full((len(stops), len(destinations)), np.nan)
        dense[stops.index("B"), list(destinations["id"]).index("D")] = self.egress_s
        return sparse_times_from_dense(dense)


def with_services(town, *services):
    network, o, d = town
    served = tm.TransportNetwork(
        network.osm_pbf, network.gtfs, DAY, access_services=list(services), cache=False,
        progress=False,
    )  # fmt: skip
    return served, o, d


def test_access_service_shortens_the_first_mile(town):
    # docks: O -> A in 120 s instead of 500 s on foot. Minute m is at A at 08:0m:00 + 120 s,
    # + 60 s slack <= 08:10 up to m=7: m=0..7 reach D at 08:28:20 (1,700 - 60 m s), m=8,9
    # take the 08:20 bus (2,300 - 60 m s). sorted: 1280 1340 1400 1460 1520 1580 1640 1700
    # 1760 1820 -> index 4: 1,520 s = 25 min
    network, o, d = with_services(town, HandMadeDocks(access_s=120))
    frame = tm.travel_time_matrix(network, o, d, departure=EIGHT, engine="auto")
    assert frame["travel_time"].tolist() == [25.0]
    assert "hand-made docks" in frame.attrs["engine_reason"]  # r5py refuses, auto says why


def test_access_service_shortens_the_last_mile(town):
    # docks: B -> D in 100 s instead of 500 s: every iteration 400 s shorter than walking
    # both ends (median 1,940 s): 1,540 s = 25 min; with both legs 1,520 - 400 = 1,120 s = 18 min
    assert ttm(with_services(town, HandMadeDocks(egress_s=100)))["travel_time"].tolist() == [25.0]
    both = with_services(town, HandMadeDocks(access_s=120, egress_s=100))
    assert ttm(both)["travel_time"].tolist() == [18.0]


def test_access_service_slower_than_walking_changes_nothing(town):
    # per stop, the engine keeps the shorter of the service's time and the walk (500 s)
    served = with_services(town, HandMadeDocks(access_s=900, egress_s=900))
    assert ttm(served)["travel_time"].tolist() == [32.0]
    # two services: the faster one wins per pair, whatever their order
    served = with_services(town, HandMadeDocks(access_s=900), HandMadeDocks(access_s=120))
    assert ttm(served)["travel_time"].tolist() == [25.0]


def test_access_service_mistakes_are_named(town):
    network, o, d = town
    with pytest.raises(tm.NetworkError, match=r"access_services\[0\].*'bike-share'"):
        tm.TransportNetwork(network.osm_pbf, network.gtfs, DAY, access_services=["bike-share"])
    served = with_services(town, HandMadeDocks(access_s=120, shape_error=True))
    with pytest.raises(RoutingError, match=r"'hand-made docks access' has shape \(1, 3\)"):
        ttm(served)


def test_egress_walk_is_capped_as_r5_builds_its_egress_tables(town, monkeypatch):
    # B -> D is 500 m. R5 walks at most TransitLayer.WALK_DISTANCE_LIMIT_METERS (2,000 m)
    # from the last stop; with the cap at 500 m the walk is kept (28 min, as above), at
    # 499 m it is cut and D is only reachable on foot: 6,000 m at 1 m/s = 100 min.
    assert settings.egress_walk_limit_m == 2000.0
    one = {"departure_time_window": dt.timedelta(minutes=1)}
    monkeypatch.setattr(settings, "egress_walk_limit_m", 500.0)
    assert ttm(town, **one)["travel_time"].tolist() == [28.0]
    monkeypatch.setattr(settings, "egress_walk_limit_m", 499.0)
    capped = ttm(town, **one)
    assert capped["travel_time"].tolist() == [100.0]
    assert capped.attrs["settings"]["egress_walk_limit_m"] == 499.0
    # no cap: the request's max_time_walking decides alone
    monkeypatch.setattr(settings, "egress_walk_limit_m", None)
    assert ttm(town, **one)["travel_time"].tolist() == [28.0]
    assert ttm(town, max_time_walking=dt.timedelta(seconds=499), **one)["travel_time"].isna().all()


def test_access_stop_limit_keeps_each_points_quickest_stops(town, monkeypatch):
    # O reaches A in 500 s and B in 5,500 s (within r5py's 2-hour walk); D is reached
    # from B in 500 s (A is 5,500 m away, past the 2,000 m egress cap). With one stop
    # per point O keeps A only, D keeps B: the trip O -> A -> bus -> B -> D is intact.
    from transitmile.engines.request import TravelTimeRequest
    from transitmile.engines.street_legs import origin_legs, plan_street_legs, street_legs

    network, o, d = town
    request = TravelTimeRequest(EIGHT)
    assert settings.access_stop_limit is None  # R5 and r5py: every stop within the walk
    access, _, egress = street_legs(network, o, d, request)
    assert access.to_dense(fill=-1).tolist() == [[500, 5500]]
    assert egress.to_dense(fill=-1).tolist() == [[-1], [500]]
    monkeypatch.setattr(settings, "access_stop_limit", 1)
    access, _, egress = street_legs(network, o, d, request)
    assert access.to_dense(fill=-1).tolist() == [[500, -1]]
    assert egress.to_dense(fill=-1).tolist() == [[-1], [500]]
    one = {"departure_time_window": dt.timedelta(minutes=1)}
    limited = ttm(town, **one)
    assert limited["travel_time"].tolist() == [28.0]
    assert limited.attrs["settings"]["access_stop_limit"] == 1
    # a plan carries the limit it was made with: workers apply the client's setting
    plan = plan_street_legs(network, o, d, request)
    monkeypatch.setattr(settings, "access_stop_limit", None)
    assert origin_legs(plan, 0, 1)[0].to_dense(fill=-1).tolist() == [[500, -1]]
    for bad in (0, 2.5, "10", True):
        monkeypatch.setattr(settings, "access_stop_limit", bad)
        with pytest.raises(RoutingError, match=r"settings.access_stop_limit .* got"):
            ttm(town, **one)


def test_egress_limit_is_the_cap_at_the_request_speed():
    from transitmile.engines.request import TravelTimeRequest
    from transitmile.engines.street_legs import egress_limit_s

    r5py = TravelTimeRequest(EIGHT)
    assert egress_limit_s(r5py, "WALK") == 2000  # 2,000 m at 3.6 km/h = 1 m/s
    assert egress_limit_s(r5py, "BICYCLE") == 1500  # 5,000 m at 12 km/h
    fast = TravelTimeRequest(EIGHT, speed_walking=5.0)
    assert egress_limit_s(fast, "WALK") == 1440  # 2,000 m at 1.389 m/s
    short = TravelTimeRequest(EIGHT, max_time_walking_s=1200)
    assert egress_limit_s(short, "WALK") == 1200  # the request's own limit is shorter


@pytest.fixture(scope="module")
def transfer_street(tmp_path_factory):
    """Stops on one road at x = 0 (S), 50 (X), 300 (Y), 600 (Z) and 1,100 m (W).

    Patterns: S -> Z, X -> Y and Z -> W. Walking at 3.6 km/h, metres are seconds.
    """
    folder = tmp_path_factory.mktemp("transfer_street")
    nodes = {i + 1: (50.0 * i, 0.0) for i in range(25)}
    osm = write_osm(
        folder / "street.osm.pbf", nodes, [(1, list(nodes), {"highway": "residential"})]
    )
    where = {"S": 0, "X": 50, "Y": 300, "Z": 600, "W": 1100}
    rows = "\n".join(f"{k},{k},{lonlat(x, 0)[1]},{lonlat(x, 0)[0]}" for k, x in where.items())
    trips = {"T1": ("S", "Z"), "T2": ("X", "Y"), "T3": ("Z", "W")}
    stop_times = "\n".join(
        f"{t},08:0{i}:00,08:0{i}:00,{a},1\n{t},08:1{i}:00,08:1{i}:00,{b},2"
        for i, (t, (a, b)) in enumerate(trips.items())
    )
    gtfs = write_feed(
        folder / "feed",
        {
            "stops.txt": f"stop_id,stop_name,stop_lat,stop_lon\n{rows}\n",
            "trips.txt": "route_id,service_id,trip_id,direction_id\n"
            + "\n".join(f"R1,WK,{t},0" for t in trips)
            + "\n",
            "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
            + stop_times
            + "\n",
        },
    )
    saved = settings.cache_dir
    settings.cache_dir = folder / "cache"
    try:
        return tm.TransportNetwork(osm, [gtfs], DAY, progress=False)
    finally:
        settings.cache_dir = saved


def _transfers_from(network, stop, **kwargs):
    table = network.transfer_seconds(3.6, 20 * 60, **kwargs)
    ids = list(network.stops["id"])
    i = ids.index(stop)
    row = slice(table.indptr[i], table.indptr[i + 1])
    return {ids[j]: int(s) for j, s in zip(table.indices[row], table.seconds[row], strict=True)}


def test_transfers_follow_r5s_transfer_finder(transfer_street):
    # every stop within 20 minutes (1,200 m), the stop itself included at 0 s
    assert _transfers_from(transfer_street, "S") == {
        "S": 0, "X": 50, "Y": 300, "Z": 600, "W": 1100,
    }  # fmt: skip
    # R5's TRANSFER_DISTANCE_LIMIT_METERS: 1,000 m drops W
    assert _transfers_from(transfer_street, "S", max_distance_m=1000) == {
        "S": 0, "X": 50, "Y": 300, "Z": 600,
    }  # fmt: skip
    # retainClosestStopsOnPatterns: X is the nearest stop of X -> Y, Z of S -> Z and of
    # Z -> W; Y is nobody's nearest, and no transfer to the stop itself
    assert _transfers_from(
        transfer_street, "S", max_distance_m=1000, closest_stop_per_pattern=True
    ) == {"X": 50, "Z": 600}
    # from Y (itself left out): X is the nearest on X -> Y, Z on Z -> W; on S -> Z, S and
    # Z are both 300 m away and the tie goes to the lower stop index, S
    assert _transfers_from(
        transfer_street, "Y", max_distance_m=1000, closest_stop_per_pattern=True
    ) == {"S": 300, "X": 250, "Z": 300}


def test_default_transfers_are_r5s(transfer_street):
    assert settings.transfer_limit_m == 1000.0
    assert settings.transfers_closest_stop_per_pattern is True
