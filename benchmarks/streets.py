"""Street graph benchmark on Porto Alegre: build, snap, travel time tables, pickling.

Run: ``TRANSITMILE_DATA_DIR=... python benchmarks/streets.py``. Prints figures only;
timings never fail anything.

``--tables [--before PATH] [--repeat 3]`` times only the street tables of a travel time
matrix (``engines.street_legs``: snapping, access, direct and egress) for the 1,227
hexgrid cells to the same cells, r5py's defaults (WALK + TRANSIT, 2-hour walks), each
run in a fresh process after a warm-up: wall and CPU seconds (all threads), medians.
With ``--before PATH`` (a checkout of another commit, e.g. ``git archive`` of main)
the runs alternate between that code and this one, and the tables' digests (sha256 of
every array) show whether the two give identical tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import pickle
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from transitmile.data import fetch_dataset, fetch_file
from transitmile.streets import (
    DEFAULT_SPEED_KMH,
    build_street_graph,
    snap_points,
    street_travel_times,
)


def timed(label: str, func, *args, repeat: int = 3, **kwargs):
    """Best wall time of ``repeat`` runs; returns the last result."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = func(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    print(f"  {label:<44s} {best:8.3f} s")
    return result


def feed_stops() -> gpd.GeoDataFrame:
    """Stops of both Porto Alegre feeds (ids prefixed by feed, as load_feeds does)."""
    frames = []
    for name in ("poa_eptc", "poa_trensurb"):
        with zipfile.ZipFile(fetch_file(f"{name}.zip")) as archive, archive.open("stops.txt") as f:
            stops = pd.read_csv(f, dtype={"stop_id": str})
        frames.append(stops.assign(id=name + ":" + stops["stop_id"]))
    stops = pd.concat(frames, ignore_index=True)
    geometry = gpd.points_from_xy(stops["stop_lon"], stops["stop_lat"], crs="EPSG:4326")
    return gpd.GeoDataFrame({"id": stops["id"]}, geometry=geometry)


def peak_mb(func, *args, **kwargs) -> float:
    tracemalloc.start()
    func(*args, **kwargs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def tables_run() -> dict:
    """One timed ``street_legs`` call in this process (after a warm-up): seconds and digest."""
    import transitmile as tm
    from transitmile.engines.request import make_request
    from transitmile.engines.street_legs import street_legs

    departure = dt.datetime(2019, 5, 13, 14, 0)
    data = fetch_dataset("porto_alegre", progress=False)
    network = tm.TransportNetwork(data.osm_pbf, data.gtfs, departure.date(), progress=False)
    cells = data.origins
    request = make_request(departure=departure)
    few = cells.iloc[:8]
    street_legs(network, few, few, request, progress=False)  # warm-up: caches, numba
    wall, cpu = time.perf_counter(), time.process_time()
    tables = street_legs(network, cells, cells, request, progress=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    digest = hashlib.sha256()
    for table in tables:
        for array in (table.indptr, table.indices, table.seconds, table.shape):
            digest.update(memoryview(np.ascontiguousarray(array)).cast("B"))
    pairs = [t.nnz for t in tables]
    return {"wall_s": wall, "cpu_s": cpu, "digest": digest.hexdigest()[:16], "pairs": pairs}


def tables_benchmark(before: str | None, repeat: int) -> None:
    """Alternate fresh-process runs of the code at ``before`` and of this checkout."""
    here = str(Path(__file__).resolve().parent.parent)
    checkouts = {"this checkout": here} if before is None else {"before": before, "after": here}
    runs: dict[str, list[dict]] = {name: [] for name in checkouts}
    for _ in range(repeat):
        for name, root in checkouts.items():
            env = {**os.environ, "PYTHONPATH": root}
            out = subprocess.run(
                [sys.executable, __file__, "--tables-run"], env=env, check=True,
                capture_output=True, text=True,
            ).stdout  # fmt: skip
            runs[name].append(json.loads(out.strip().splitlines()[-1]))
    print(
        "street tables of the POA matrix, 1,227 x 1,227 cells, r5py defaults "
        f"(access, direct, egress), medians of {repeat} alternating runs, load "
        f"{os.getloadavg()[0]:.1f}:"
    )
    for name, results in runs.items():
        walls = [r["wall_s"] for r in results]
        cpus = [r["cpu_s"] for r in results]
        print(
            f"  {name:>13}: wall {statistics.median(walls):6.2f} s, CPU {statistics.median(cpus):6.2f} s"
            f"  (walls {', '.join(f'{w:.2f}' for w in walls)}); pairs {results[0]['pairs']},"
            f" digest {results[0]['digest']}"
        )
    digests = {r["digest"] for results in runs.values() for r in results}
    print("  tables identical in every run" if len(digests) == 1 else "  TABLES DIFFER")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", action="store_true", help="only a matrix's street tables")
    parser.add_argument("--before", default=None, help="checkout to compare with (--tables)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per checkout (--tables)")
    parser.add_argument("--tables-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tables_run:
        warnings.simplefilter("ignore")
        print(json.dumps(tables_run()))
        return
    if args.tables:
        tables_benchmark(args.before, args.repeat)
        return
    warnings.simplefilter("ignore")  # unsnapped-point warnings; counted below instead
    pbf = fetch_file("poa_osm.pbf")
    cells = fetch_dataset("porto_alegre", progress=False).origins[["id", "geometry"]]
    stops = feed_stops()
    print(
        f"Porto Alegre: {pbf.name} ({pbf.stat().st_size / 1e6:.1f} MB), "
        f"{len(cells)} hexgrid cells, {len(stops)} stops (EPTC + Trensurb)"
    )
    for mode in ("WALK", "BICYCLE"):
        print(f"\n{mode}")
        graph = timed("parse + build graph", build_street_graph, pbf, mode, progress=False)
        print(
            f"  nodes {graph.n_nodes:,}, street pieces {graph.n_edges:,}, "
            f"directed links {graph.adjacency.nnz:,}, "
            f"total length {graph.edges['length'].sum() / 1000:,.0f} km"
        )
        blob = timed("pickle dumps", pickle.dumps, graph, protocol=pickle.HIGHEST_PROTOCOL)
        timed("pickle loads", pickle.loads, blob)
        print(f"  pickle size {len(blob) / 1e6:.1f} MB")
        snapped_cells = timed("snap 1,227 cells", snap_points, graph, cells)
        snapped_stops = timed(f"snap {len(stops):,} stops", snap_points, graph, stops)
        print(
            f"  snapped within 1600 m: cells {snapped_cells.snapped.mean():.1%} "
            f"({snapped_cells.snapped.sum()}/{len(cells)}), "
            f"stops {snapped_stops.snapped.mean():.1%} "
            f"({snapped_stops.snapped.sum()}/{len(stops)})"
        )
        speed = DEFAULT_SPEED_KMH[mode]
        for label, a, b, limit in [
            ("cells x cells, 30 min", snapped_cells, snapped_cells, 1800),
            ("cells x cells, 60 min", snapped_cells, snapped_cells, 3600),
            ("stops x stops, 20 min", snapped_stops, snapped_stops, 1200),
            ("stops -> cells, 20 min", snapped_stops, snapped_cells, 1200),
        ]:
            times = timed(
                label, street_travel_times, graph, a, b, speed, limit, progress=False, repeat=2
            )
            print(
                f"  {'':<44s} {times.nnz:,} pairs ({times.nnz / (len(a) * len(b)):.1%}); "
                f"peak {peak_mb(street_travel_times, graph, a, b, speed, limit, progress=False):.0f} MB"
            )


if __name__ == "__main__":
    main()
