"""Memory of a chunked run, checked by object lifetimes (never by RSS, never by time).

A metro-sized matrix only fits if each chunk of origins' dense arrays (minutes, the
breakdown's seconds, every iteration) die once they are copied out or handed to the
caller, and if the plan does not copy the origin tables once per block. Both are
properties of references, which CPython frees deterministically: the tests hold weak
references to what every chunk returned and count the live ones while the next chunk
is routed.
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd
import pytest

import transitmile.distributed as distributed_module
from transitmile.engines.embedded import plan_chunks, run_chunk
from transitmile.engines.frame import result_frame
from transitmile.engines.tables import sparse_times_from_dense
from transitmile.engines.timetable import compile_timetable

from .test_raptor import CONNECTION, INF, run

STOPS = ["A", "B", "C"]
# Nine origins, each standing at one of the three stops, to three destinations (one
# per stop): every chunk of one origin has a ride or a walk to route.
ACCESS = [[0 if s == k % 3 else INF for s in range(3)] for k in range(9)]
EGRESS = [[0, INF, INF], [INF, 0, INF], [INF, INF, 0]]


class ChunkLifetimes:
    """Wrap ``run_chunk``: keep weak references to each chunk's arrays, count live chunks."""

    def __init__(self):
        self.returned: list[list[weakref.ref]] = []
        self.live_at_call: list[int] = []

    def live(self) -> int:
        """Chunks any of whose arrays is still referenced somewhere."""
        return sum(any(ref() is not None for ref in refs) for refs in self.returned)

    def __call__(self, chunk):
        self.live_at_call.append(self.live())
        result = run_chunk(chunk)
        self.returned.append([weakref.ref(a) for a in result if a is not None])
        return result


@pytest.fixture
def lifetimes(monkeypatch):
    watcher = ChunkLifetimes()
    monkeypatch.setattr(distributed_module, "run_chunk", watcher)
    return watcher


@pytest.mark.parametrize(
    "options",
    [{}, {"breakdown": True}, {"keep_iterations": True}],
    ids=["minutes", "breakdown", "iterations"],
)
def test_a_chunked_run_holds_one_chunk_at_a_time(lifetimes, options):
    whole = run(CONNECTION, STOPS, ACCESS, EGRESS, chunk_size=9, **options)
    lifetimes.returned.clear()
    lifetimes.live_at_call.clear()
    cut = run(CONNECTION, STOPS, ACCESS, EGRESS, chunk_size=1, **options)
    assert len(lifetimes.live_at_call) == 9
    # While a chunk is routed, at most the one before it is still referenced (the loop
    # that copies it out), never the earlier ones; and none outlives the run.
    assert max(lifetimes.live_at_call) <= 1
    assert lifetimes.live() == 0
    # Cutting the run changes no value.
    np.testing.assert_array_equal(cut.minutes, whole.minutes)
    if options.get("breakdown"):
        for part, values in whole.breakdown.items():
            np.testing.assert_array_equal(cut.breakdown[part], values)
    if options.get("keep_iterations"):
        np.testing.assert_array_equal(cut.iterations, whole.iterations)


def test_chunks_given_to_a_consumer_are_not_kept(lifetimes):
    seen = []

    def on_chunk(start, stop, minutes, breakdown):
        seen.append((start, stop, minutes.copy()))

    result = run(CONNECTION, STOPS, ACCESS, EGRESS, chunk_size=2, on_chunk=on_chunk)
    assert result.minutes is None
    assert [s[:2] for s in seen] == [(0, 2), (2, 4), (4, 6), (6, 8), (8, 9)]
    assert max(lifetimes.live_at_call) <= 1 and lifetimes.live() == 0
    whole = run(CONNECTION, STOPS, ACCESS, EGRESS)
    np.testing.assert_array_equal(np.concatenate([s[2] for s in seen]), whole.minutes)


def test_blocks_share_the_origin_tables_rows_instead_of_copying_them():
    timetable = compile_timetable(CONNECTION, STOPS)
    access = sparse_times_from_dense(np.array(ACCESS, float))
    direct = sparse_times_from_dense(np.full((9, 3), 600.0))
    template, blocks = plan_chunks(
        timetable, None, access, sparse_times_from_dense(np.array(EGRESS, float)), direct,
        departure_s=0, n_minutes=1, chunk_size=2,
    )  # fmt: skip
    assert len(blocks) == 5
    for block in blocks:
        for mine, table in ((block.access, access), (block.direct, direct)):
            assert np.shares_memory(mine.indices, table.indices)
            assert np.shares_memory(mine.seconds, table.seconds)
    # The template carries no origin's rows at all.
    assert template.access.shape[0] == 0 and template.direct.shape[0] == 0


def test_the_frame_copies_the_minutes_once_and_never_writes_them():
    points = pd.DataFrame({"id": ["a", "b"]})
    minutes = np.array([[[5.0], [7.0]], [[np.nan], [3.0]]])
    parts = {k: np.full((2, 2), 1.5) for k in ("access", "waiting", "in_vehicle",
                                                "transfer", "egress")}  # fmt: skip
    frame = result_frame(points, points, minutes, [50], parts)
    assert frame["travel_time"].tolist()[:2] == [0.0, 7.0]  # 0 from a point to itself
    assert minutes[0, 0, 0] == 5.0  # the caller's array is not written
    for column in ("travel_time", "access_time"):
        values = frame[column].to_numpy()
        assert not np.shares_memory(values, minutes)
        assert not any(np.shares_memory(values, p) for p in parts.values())
    parts["access"][:] = 99.0  # the caller's arrays stay the caller's
    assert (frame["access_time"] == 1.5).all()
