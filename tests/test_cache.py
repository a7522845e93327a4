"""The network cache holds data, not code, and never lies.

Every test builds the hand-made town of ``test_travel_time_matrix`` (one road, one bus
line) into a private cache, damages the cache the way the issue found it damaged, and
checks that the next run warns, rebuilds and gives exactly the fresh build's times.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import json
import os
import pickle
import subprocess
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import transitmile as tm
from transitmile import cache, settings
from transitmile.cache import CacheWarning

from .test_travel_time_matrix import DAY, EIGHT, build_town

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return build_town(tmp_path_factory.mktemp("cache_town"))


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setattr(settings, "cache_dir", folder)
    return folder


def network_of(town, **kwargs) -> tm.TransportNetwork:
    network = town[0]
    return tm.TransportNetwork(network.osm_pbf, network.gtfs, DAY, progress=False, **kwargs)


def minutes(network, town) -> np.ndarray:
    _, o, d = town
    frame = tm.travel_time_matrix(
        network, o, d, departure=EIGHT, departure_time_window=1, engine="embedded", progress=False
    )
    return frame["travel_time"].to_numpy()


def assert_same(a, b, path: str = "network") -> None:
    """Field by field: arrays by dtype and value, frames exactly, dataclasses recursively."""
    if dataclasses.is_dataclass(a):
        assert type(a) is type(b), path
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=path)
        assert type(a) is type(b), path
        if isinstance(a, gpd.GeoDataFrame):  # coordinates bit for bit, same CRS
            assert a.crs == b.crs, path
            assert (shapely.to_wkb(a.geometry.array) == shapely.to_wkb(b.geometry.array)).all()
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype, path
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif hasattr(a, "toarray"):
        assert a.dtype == b.dtype and a.shape == b.shape and (a != b).nnz == 0, path
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


def test_cached_network_is_the_fresh_build_exactly(town, cache_dir):
    fresh = network_of(town)
    cached = network_of(town)
    assert (fresh.cache_hit, cached.cache_hit) == (False, True)
    assert_same(fresh._built, cached._built)
    # test_travel_time_matrix's hand-worked value: leave 08:00, the 08:10 bus, at D 08:28:20
    assert minutes(cached, town)[0] == minutes(fresh, town)[0] == 28
    manifest = json.loads(cached.cache_path.with_suffix(".json").read_text())
    assert manifest["format"] == cache.CACHE_FORMAT
    assert manifest["inputs"]["gtfs"] == [tm.data.path_sha256(p) for p in fresh.gtfs]
    assert all(len(a["sha256"]) == 64 for a in manifest["arrays"].values())


def test_cache_folders_are_private(town, cache_dir):
    network_of(town)
    for folder in (cache_dir, cache_dir / "networks"):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    for entry in (cache_dir / "networks").iterdir():
        assert entry.stat().st_mode & 0o077 == 0, entry


def test_flipped_bytes_are_rebuilt_with_identical_results(town, cache_dir):
    fresh = network_of(town)
    expected = minutes(fresh, town)
    data = bytearray(fresh.cache_path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    fresh.cache_path.write_bytes(bytes(data))
    with pytest.warns(CacheWarning, match=r"ignoring damaged or foreign cache entry .*\.npz"):
        again = network_of(town)
    assert not again.cache_hit
    np.testing.assert_array_equal(minutes(again, town), expected)
    assert network_of(town).cache_hit  # the rebuilt entry replaced the damaged one


def test_entry_of_other_inputs_or_class_is_rebuilt(town, cache_dir):
    fresh = network_of(town)
    manifest_path = fresh.cache_path.with_suffix(".json")
    manifest = json.loads(manifest_path.read_text())
    manifest["tree"]["class"] = "Feed"  # a valid entry holding another object
    manifest_path.write_text(json.dumps(manifest))
    with pytest.warns(CacheWarning, match="holds a 'Feed', not a _Built"):
        assert not network_of(town).cache_hit
    manifest = json.loads(manifest_path.read_text())
    manifest["inputs"]["date"] = "2024-01-16"  # an entry copied from another network
    manifest_path.write_text(json.dumps(manifest))
    with pytest.warns(CacheWarning, match="built from other inputs"):
        assert not network_of(town).cache_hit


class Planted:
    """Unpickling this creates a marker file: proof that code from the cache ran."""

    marker = Path("/nonexistent")

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_planted_pickle_is_never_executed(town, cache_dir, tmp_path, monkeypatch):
    fresh = network_of(town)
    marker = tmp_path / "code-ran"
    monkeypatch.setattr(Planted, "marker", marker)
    payload = pickle.dumps(Planted())
    # where the old cache looked, and in place of the arrays of the current entry
    old_entry = fresh.cache_path.with_suffix(".pkl")
    old_entry.write_bytes(payload)
    fresh.cache_path.write_bytes(payload)

    def refuse(*args, **kwargs):
        raise AssertionError("the network cache loaded a pickle")

    # (only around the cache: numba's own cache of compiled kernels indexes with pickle)
    with monkeypatch.context() as patched:
        for name in ("load", "loads", "Unpickler"):
            patched.setattr(pickle, name, refuse)
        with pytest.warns(CacheWarning, match="ignoring damaged or foreign"):
            again = network_of(town)
        assert not marker.exists()
        assert not again.cache_hit and not old_entry.exists()  # the old pickle entry is removed
        assert network_of(town).cache_hit  # written and read back without pickle
    assert minutes(again, town)[0] == 28


def test_package_never_imports_pickle():
    """A return to pickle anywhere in transitmile fails here."""
    for path in (ROOT / "transitmile").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not {"pickle", "cloudpickle", "dill", "joblib"} & set(names), path
        assert "allow_pickle=True" not in path.read_text(), path


def test_entry_of_another_user_is_ignored(town, cache_dir, monkeypatch):
    fresh = network_of(town)
    os.chown(fresh.cache_path.with_suffix(".json"), 4242, -1)  # the tests run as root
    if fresh.cache_path.with_suffix(".json").stat().st_uid != 4242:
        monkeypatch.setattr(cache.os, "getuid", lambda: 4242)  # not root: pretend to be another
    with pytest.warns(CacheWarning, match=r"ignoring cache file .*\.json.*: owned by uid"):
        again = network_of(town)
    assert not again.cache_hit
    assert minutes(again, town)[0] == 28


def test_unwritable_cache_runs_without_cache_with_one_warning(town, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(settings, "cache_dir", blocker / "cache")
    monkeypatch.setattr(cache, "_warned", set())
    with pytest.warns(
        CacheWarning, match=r"cache folder .*a-file/cache/networks.* running without"
    ):
        first = network_of(town)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        second = network_of(town)
    assert not [w for w in caught if issubclass(w.category, CacheWarning)]  # said once
    assert (first.cache_hit, second.cache_hit, first.cache_path) == (False, False, None)
    assert minutes(second, town)[0] == 28


def test_read_only_cache_folder_runs_without_cache(town, cache_dir, monkeypatch):
    (cache_dir / "networks").mkdir(parents=True)
    monkeypatch.setattr(cache, "_warned", set())
    # root may write anywhere, so the folder is made unwritable in os.access's answer
    monkeypatch.setattr(cache.os, "access", lambda path, mode: False)
    with pytest.warns(CacheWarning, match="no write permission"):
        network = network_of(town)
    assert network.cache_path is None and not any((cache_dir / "networks").iterdir())


def test_stale_temporary_files_are_removed(town, cache_dir):
    folder = cache_dir / "networks"
    folder.mkdir(parents=True)
    old, recent = folder / ".x.npz.abc.tmp", folder / ".y.npz.def.tmp"
    for path in (old, recent):
        path.write_bytes(b"left by a killed build")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    network_of(town)
    assert not old.exists()
    assert recent.exists()  # it may belong to a build running right now


def test_failed_write_leaves_no_temporary_files(town, cache_dir, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(cache.np, "savez", fail)
    monkeypatch.setattr(cache, "_warned", set())
    with pytest.warns(CacheWarning, match="disk full"):
        network = network_of(town)
    assert minutes(network, town)[0] == 28
    assert sorted(p.suffix for p in (cache_dir / "networks").iterdir()) == [".lock"]


_CHILD = """
import logging, sys, transitmile as tm
logging.basicConfig(level=logging.WARNING)
from transitmile import settings
from pathlib import Path
settings.cache_dir = Path(sys.argv[1])
net = tm.TransportNetwork(sys.argv[2], sys.argv[3:], "{day}", progress=False)
print("HIT" if net.cache_hit else "BUILT", len(net.stops), flush=True)
"""


def test_two_processes_on_a_fresh_cache_build_once(town, cache_dir, tmp_path):
    network = town[0]
    key = network_of(town).cache_path.stem  # the same key in any cache folder
    fresh = tmp_path / "shared-cache"
    folder = cache.cache_folder(fresh / "networks")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRANSITMILE_PROGRESS": "0"}
    code = _CHILD.format(day=DAY.isoformat())
    args = [str(fresh), str(network.osm_pbf), *map(str, network.gtfs)]
    # Both start while the entry's lock is held, so both are waiting at the same moment.
    with cache.entry_lock(folder, key):
        children = [
            subprocess.Popen(
                [sys.executable, "-c", code, *args],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for child in children:  # each says it waits for the lock before going on
            lines = iter(child.stderr.readline, "")
            assert any("waiting for another transitmile run" in line for line in lines)
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err
        outputs.append(out.split())
    assert sorted(o[0] for o in outputs) == ["BUILT", "HIT"]
    assert {o[1] for o in outputs} == {"2"}


@pytest.mark.slow
def test_poa_cached_network_gives_the_fresh_build_times(poa_network, monkeypatch):
    """Every 40th Porto Alegre cell (31 origins), 14:00-14:10: same times, cached or not."""
    from .conftest import POA_DATE

    network, data = poa_network
    monkeypatch.setattr(settings, "cache_dir", network.cache_path.parent.parent)
    cached = tm.TransportNetwork(data.osm_pbf, data.gtfs, POA_DATE, progress=False)
    assert (network.cache_hit, cached.cache_hit) == (False, True)
    assert_same(network._built.timetable, cached._built.timetable, "timetable")
    assert_same(network._built.walk, cached._built.walk, "walk")
    cells = data.origins.iloc[::40].reset_index(drop=True)
    frames = [
        tm.travel_time_matrix(
            n, cells, data.origins, departure=dt.datetime(2019, 5, 13, 14), engine="embedded",
            progress=False, percentiles=(25, 50, 75),
        )
        for n in (network, cached)
    ]  # fmt: skip
    pd.testing.assert_frame_equal(frames[0], frames[1], check_exact=True)
    assert frames[0]["travel_time_p50"].notna().mean() > 0.5  # routed through transit, not empty


@dataclasses.dataclass
class Mixed:
    """Values that take the cache's fallbacks: WKB geometries, object arrays with None."""

    points: gpd.GeoDataFrame
    ids: np.ndarray
    when: dt.date
    shape: tuple[int, int]


def test_fallback_kinds_round_trip_exactly(tmp_path):
    layer = gpd.GeoDataFrame(
        {"id": ["a", "b", "c"], "n": [1, 2, 3]},
        geometry=[shapely.Point(1, 2), None, shapely.LineString([(0, 0), (1, 1)])],
        crs="EPSG:4326",
    )
    value = Mixed(layer, np.array(["x", None, "00042"], dtype=object), dt.date(2024, 1, 15), (2, 3))
    classes = {"Mixed": Mixed}
    assert cache.save_entry(tmp_path, "k", value, {"v": 1}, classes)
    back = cache.load_entry(tmp_path, "k", {"v": 1}, Mixed, classes)
    assert_same(value.points, back.points)
    assert back.ids.dtype == object and back.ids.tolist() == ["x", None, "00042"]
    assert (back.when, back.shape) == (value.when, value.shape)
    with pytest.warns(CacheWarning, match="not a _Built"):  # asked for another class
        assert cache.load_entry(tmp_path, "k", {"v": 1}, tm.network._Built, classes) is None
    value.ids = np.array(["x", 3], dtype=object)  # other objects are never stored
    with pytest.warns(CacheWarning, match="other than text and None"):
        assert not cache.save_entry(tmp_path, "k2", value, {"v": 1}, classes)
