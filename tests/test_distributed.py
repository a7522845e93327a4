"""Chunks of origins on a Dask cluster give the in-process result, whatever the chunking.

A LocalCluster with 2 worker processes (one thread each) serves the module. The Porto
Alegre runs use 60 origins (every 20th hexgrid cell) to 60 destinations over a
5-minute window, so that the module takes seconds, not minutes.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import os
import signal
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

import transitmile as tm
from transitmile.distributed import INSTALL_HINT, check_client, chunk_size_for
from transitmile.engines import street_legs as street_legs_module
from transitmile.engines.embedded import compute_travel_times
from transitmile.engines.request import make_request
from transitmile.engines.street_legs import origin_legs, plan_street_legs
from transitmile.engines.tables import sparse_times_from_dense
from transitmile.engines.timetable import compile_timetable
from transitmile.errors import EngineUnavailableError, RoutingError
from transitmile.sparse import stack_rows

from .test_raptor import FREQUENCY, INF

distributed = pytest.importorskip("dask.distributed")

DEPARTURE = dt.datetime(2019, 5, 13, 14, 0)


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes with one thread each, as a small cluster would have."""
    with distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as local:
        yield local


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster) as client:
        yield client


# ------------------------------------------------------------ hand-made network
def frequency_run(**kwargs):
    """Three origins to two destinations over the headway route A -> B (Monte Carlo)."""
    timetable = compile_timetable(FREQUENCY, ["A", "B"])
    # Origins 0 and 2 stand at A (0 s and 120 s away), origin 1 next to B.
    access = sparse_times_from_dense([[0, INF], [INF, 30], [120, INF]])
    egress = sparse_times_from_dense([[INF, INF], [0, 60]])
    return compute_travel_times(
        timetable,
        None,
        access,
        egress,
        None,
        departure_s=3600,
        n_minutes=10,
        percentiles=(5, 50, 95),
        monte_carlo_draws=60,
        seed=7,
        keep_iterations=True,
        board_slack_s=0,
        progress=False,
        **kwargs,
    )


def test_monte_carlo_draws_do_not_depend_on_chunking():
    # The phase offsets are drawn once per (minute, draw) before any chunk exists, so
    # each origin sees the same draws whether it is routed alone or with others.
    whole = frequency_run(chunk_size=256)
    for chunk_size in (1, 2):
        cut = frequency_run(chunk_size=chunk_size)
        np.testing.assert_array_equal(cut.iterations, whole.iterations)
        np.testing.assert_array_equal(cut.minutes, whole.minutes)
    # Hand check on origin 0: it waits u for the bus, rides 300 s, walks 0 s to
    # destination 0; every iteration lies in [300, 900) s.
    assert whole.n_iterations == 60
    assert whole.iterations[0, :, 0].min() >= 300 and whole.iterations[0, :, 0].max() < 900
    # Origin 2 is 120 s further from A, so never earlier than origin 0 (same draws).
    assert np.all(whole.iterations[2, :, 0] >= whole.iterations[0, :, 0])


def test_cluster_gives_the_in_process_iterations(client):
    here = frequency_run(chunk_size=256)
    there = frequency_run(chunk_size=1, client=client)
    np.testing.assert_array_equal(there.iterations, here.iterations)
    np.testing.assert_array_equal(there.minutes, here.minutes)


# ----------------------------------------------------------------- Porto Alegre
@pytest.fixture(scope="module")
def cells(poa_network):
    _, data = poa_network
    return data.origins.iloc[::20].iloc[:60].reset_index(drop=True)


def poa_matrix(poa_network, cells, destinations=None, **kwargs):
    """``cells`` to ``destinations`` (the same cells by default: walking egress is then
    the walking access table read the other way)."""
    network, _ = poa_network
    kwargs.setdefault("engine", "embedded")
    return tm.travel_time_matrix(
        network,
        cells,
        cells if destinations is None else destinations,
        departure=DEPARTURE,
        departure_time_window=dt.timedelta(minutes=5),
        progress=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def in_process(poa_network, cells):
    return poa_matrix(poa_network, cells, breakdown=True)


def same_frame(got, want):
    """Identical values and ids; provenance differs only in its time stamp and reason."""
    pd.testing.assert_frame_equal(got, want)
    for key in ("request", "network", "engine"):
        assert as_json(got.attrs[key]) == as_json(want.attrs[key])


def as_json(value):
    """``value`` as its JSON sidecar reads back (tuples become lists, dates strings)."""
    return json.loads(json.dumps(value, default=str))


@pytest.mark.slow
def test_matrix_on_the_cluster_is_the_in_process_matrix(poa_network, cells, in_process, client):
    assert in_process["travel_time"].notna().mean() > 0.5  # transit reaches most pairs
    on_cluster = poa_matrix(poa_network, cells, breakdown=True, client=client)
    same_frame(on_cluster, in_process)
    # and in process, cut in chunks of 7 origins instead of one chunk of 60
    same_frame(poa_matrix(poa_network, cells, breakdown=True, chunk_size=7), in_process)


@pytest.mark.slow
def test_workers_compute_the_origins_street_rows(poa_network, cells, client):
    # The client snaps the points and searches egress from the stops; every origin's
    # access and direct searches run in the tasks. Two cases: other destinations
    # (egress searched here) and the origins themselves (egress read from the access
    # rows the workers computed, within the egress limit).
    _, data = poa_network
    others = data.origins.iloc[9::20].iloc[:45].reset_index(drop=True)
    searched, real = [], street_legs_module.street_travel_times_many

    def spy(graph, origins, *args, **kwargs):
        searched.append(len(origins))
        return real(graph, origins, *args, **kwargs)

    for destinations in (others, None):
        here = poa_matrix(poa_network, cells, destinations, breakdown=True, chunk_size=13)
        with pytest.MonkeyPatch.context() as patch:  # only this process: not the workers
            patch.setattr(street_legs_module, "street_travel_times_many", spy)
            there = poa_matrix(poa_network, cells, destinations, breakdown=True, client=client)
        assert searched == []
        same_frame(there, here)
        assert there["travel_time"].notna().mean() > 0.5


def test_block_rows_are_the_rows_of_the_whole_tables(poa_network, cells):
    # Every street search starts from one origin, so a block's rows computed alone are
    # the whole table's rows: with two access modes (their pairwise minimum) and
    # door-to-door walking and cycling.
    network, _ = poa_network
    request = make_request(
        departure=DEPARTURE, access_modes=["WALK", "BICYCLE"],
        transport_modes=["TRANSIT", "WALK", "BICYCLE"],
    )  # fmt: skip
    plan = plan_street_legs(network, cells, cells, request)
    assert plan.egress_from_access  # walking egress to the origins themselves
    whole = origin_legs(plan, 0, len(cells))
    cuts = [(0, 1), (1, 17), (17, 40), (40, 60)]
    blocks = [origin_legs(plan, start, stop) for start, stop in cuts]
    for k, n_to in enumerate((plan.n_stops, len(cells), plan.n_stops)):
        stacked = stack_rows([block[k] for block in blocks], n_to)
        for name in ("indptr", "indices", "seconds"):
            np.testing.assert_array_equal(getattr(stacked, name), getattr(whole[k], name))
        assert stacked.shape == whole[k].shape
    # without door-to-door targets the same searches give the same access rows
    alone = origin_legs(plan, 17, 40, direct=False)
    np.testing.assert_array_equal(alone[0].seconds, blocks[2][0].seconds)
    assert alone[1].nnz == 0


class WorkerKiller(threading.Thread):
    """Kills (SIGKILL) a worker that is routing a chunk, once another chunk is done."""

    def __init__(self, client, cluster):
        super().__init__(daemon=True)
        self.client, self.cluster = client, cluster
        self.killed: dict | None = None
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set() and self.killed is None:
            done, processing = self.client.run_on_scheduler(_chunk_states)
            if done >= 1 and processing:
                address, key = processing[0]
                nanny = next(
                    n for n in self.cluster.workers.values() if n.worker_address == address
                )
                pid = nanny.process.process.pid
                os.kill(pid, signal.SIGKILL)
                self.killed = {"done": done, "address": address, "key": key, "pid": pid}
            time.sleep(0.02)


def _chunk_states(dask_scheduler) -> tuple[int, list]:
    """On the scheduler: chunks finished, and (worker, key) of chunks being routed."""
    done, processing = 0, []
    for key, state in dask_scheduler.tasks.items():
        if "transitmile-chunk" not in str(key):
            continue
        if state.state == "memory" or state.state == "released":
            done += 1
        elif state.state == "processing" and state.processing_on is not None:
            processing.append((state.processing_on.address, str(key)))
    return done, processing


@pytest.mark.slow
def test_a_lost_worker_loses_only_its_tasks(poa_network, cells, in_process, client, cluster):
    client.wait_for_workers(2)
    killer = WorkerKiller(client, cluster)
    killer.start()
    try:
        again = poa_matrix(poa_network, cells, breakdown=True, client=client, chunk_size=4)
    finally:
        killer.stop.set()
        killer.join()
    assert killer.killed is not None, "no worker was killed while chunks were running"
    assert killer.killed["done"] < len(cells) // 4  # killed mid-run, chunks still to do
    same_frame(again, in_process)
    client.wait_for_workers(2)  # the nanny restarted it
    assert killer.killed["pid"] not in client.run(os.getpid).values()


# ------------------------------------------------------------------ checks first
def test_client_must_be_a_dask_client():
    with pytest.raises(RoutingError, match="must be a dask.distributed.Client.*'str'"):
        check_client("tcp://scheduler:8786")


def test_without_dask_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails
    with pytest.raises(EngineUnavailableError, match=r"pip install 'transitmile\[dask\]'"):
        check_client(object())
    assert check_client(None) is None  # client=None never needs Dask
    assert "transitmile[dask]" in INSTALL_HINT


def test_r5py_cannot_take_a_client(poa_network, cells, client):
    with pytest.raises(RoutingError, match="engine='r5py' cannot use it"):
        poa_matrix(poa_network, cells, client=client, engine="r5py")


def test_chunk_size_keeps_every_worker_thread_busy(client):
    # 2 worker threads, 4 chunks each: 8 chunks; never below 8 origins nor above 256.
    assert chunk_size_for(1000, client) == 125
    assert chunk_size_for(60, client) == 8
    assert chunk_size_for(100_000, client) == 256
    assert chunk_size_for(100_000) == 256
    assert chunk_size_for(60, client, chunk_size=7) == 7
    with pytest.raises(RoutingError, match="'chunk_size' must be a whole number >= 1, got 0"):
        chunk_size_for(60, client, chunk_size=0)


# ------------------------------------------------------------- partitioned output
def write_poa(poa_network, cells, path, **kwargs):
    network, _ = poa_network
    return tm.write_travel_time_matrix(
        network,
        cells,
        cells,
        path=path,
        departure=DEPARTURE,
        departure_time_window=dt.timedelta(minutes=5),
        breakdown=True,
        engine="embedded",
        progress=False,
        **kwargs,
    )


def reads_back_equal(folder, want):
    """pandas, pyarrow, dask.dataframe and read_travel_time_matrix all read ``want``."""
    import dask.dataframe as dd
    import pyarrow.parquet as pq

    values = want.reset_index(drop=True)
    for got in (
        pd.read_parquet(folder),
        pq.read_table(folder).to_pandas(),
        dd.read_parquet(folder).compute().reset_index(drop=True),
    ):
        pd.testing.assert_frame_equal(got, values, check_dtype=False)
    full = tm.read_travel_time_matrix(folder)
    same_frame(full, want)


@pytest.mark.slow
def test_partitioned_matrix_reads_back_equal(poa_network, cells, in_process, tmp_path):
    folder = write_poa(poa_network, cells, tmp_path / "ttm", chunk_size=16)
    assert folder == tmp_path / "ttm"
    manifest = json.loads((folder / "_manifest.json").read_text())
    # 60 origins in chunks of 16: parts of 16, 16, 16 and 12 origins x 60 destinations
    assert [p["origins"] for p in manifest["parts"]] == [[0, 16], [16, 32], [32, 48], [48, 60]]
    assert [p["rows"] for p in manifest["parts"]] == [960, 960, 960, 720]
    assert manifest["n_rows"] == 3600 and manifest["complete"] is True
    assert manifest["columns"] == list(in_process.columns)
    assert manifest["n_bytes"] == sum(f.stat().st_size for f in folder.glob("part-*.parquet"))
    assert json.loads((folder / "_provenance.json").read_text())["engine"] == "embedded"
    reads_back_equal(folder, in_process)


@pytest.mark.slow
def test_workers_write_the_parts(poa_network, cells, in_process, client, tmp_path):
    folder = write_poa(poa_network, cells, tmp_path / "ttm", client=client)
    assert len(list(folder.glob("part-*.parquet"))) == 8  # 60 origins, chunks of 8
    reads_back_equal(folder, in_process)


@pytest.mark.slow
def test_unfinished_or_changed_folders_are_refused(poa_network, cells, tmp_path):
    folder = write_poa(poa_network, cells, tmp_path / "ttm", chunk_size=30)
    (folder / "_manifest.json").unlink()  # as if the run died before its last write
    with pytest.raises(tm.DataError, match="has no _manifest.json: its write did not finish"):
        tm.read_travel_time_matrix(folder)
    write_poa(poa_network, cells, folder, chunk_size=20)  # a new matrix over the old one
    assert sorted(p.name for p in folder.glob("part-*")) == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    (folder / "part-00007.parquet").write_bytes((folder / "part-00000.parquet").read_bytes())
    with pytest.raises(tm.DataError, match="part part-00007.parquet is not in the manifest"):
        tm.read_travel_time_matrix(folder)
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(tm.TransitmileError, match="holds files that are not parts.*'notes.txt'"):
        write_poa(poa_network, cells, folder)
    assert (folder / "notes.txt").exists() and (folder / "_manifest.json").exists()


# ------------------------------------------------- accessibility straight from a network
@pytest.mark.slow
@pytest.mark.parametrize("measure", ["cumulative", "2sfca"])
def test_network_direct_accessibility_on_the_cluster(poa_network, cells, client, measure):
    # Chunks come back in completion order; they are reduced in origin order, so even
    # 2SFCA's sums of demand over chunks are the in-process floats, exactly.
    accessibility = importlib.import_module("transitmile.access.accessibility")
    network, _ = poa_network
    options = {
        "opportunities": "healthcare",
        "measure": measure,
        "cutoffs": (15, 30, 45),
        "origins": cells,
        "departure": DEPARTURE,
        "departure_time_window": dt.timedelta(minutes=5),
        "engine": "embedded",
        "progress": False,
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accessibility, "CHUNK_ORIGINS", 8)  # 8 chunks of the 60 origins
        here = tm.accessibility(network, cells, **options)
        there = tm.accessibility(network, cells, client=client, **options)
    pd.testing.assert_frame_equal(there, here, check_exact=True)
    assert (here.iloc[:, 1:].to_numpy() > 0).any()
    with pytest.raises(tm.errors.AccessError, match="travel_times is already a matrix"):
        tm.accessibility(pd.DataFrame({"from_id": []}), cells, client=client)


# ----------------------------------------------------------------- scenario comparison
@pytest.mark.slow
def test_scenario_comparison_on_the_cluster(poa_network, cells, client, tmp_path):
    # A shuttle (a new feed: a new timetable) and bike-share (an access service routed
    # on the client's street tables): every figure identical to the in-process run.
    from pathlib import Path

    from transitmile import settings
    from transitmile.scenarios import compare_scenarios, read_economics, read_scenarios

    network, _ = poa_network
    study = Path(__file__).resolve().parent.parent / "data" / "studies" / "porto_alegre.yml"
    kinds = {"shuttle", "bike_share"}
    chosen = [s for s in read_scenarios(study) if s.interventions[0].kind in kinds]
    assert {s.interventions[0].kind for s in chosen} == kinds
    options = {
        "economics": read_economics(study),
        "departure": DEPARTURE,
        "departure_time_window": dt.timedelta(minutes=5),
        "start": "14:00",
        "end": "16:00",
        "workdir": tmp_path / "work",
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "cache_dir", tmp_path / "cache")
        here = compare_scenarios(network, chosen, cells, **options)
        there = compare_scenarios(network, chosen, cells, client=client, **options)
    assert here["error"].isna().all()
    pd.testing.assert_frame_equal(there, here, check_exact=True)
    assert there.attrs["parameters"] == here.attrs["parameters"]
    with pytest.raises(RoutingError, match="engine='r5py' cannot use it"):
        compare_scenarios(network, chosen, cells, client=client, engine="r5py", **options)
