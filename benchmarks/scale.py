"""Scale benchmark: Porto Alegre at H3 resolution 10, in process and on a LocalCluster.

Origins and destinations are the resolution-10 children of the catalog's resolution-9
hexgrid cells (about 8,600; each child gets an even share of its parent's population).
The full matrix is written partitioned (``write_travel_time_matrix(path=folder)``):
in process, then on a LocalCluster of 1 and of 2 worker processes (one thread each,
``NUMBA_NUM_THREADS=1``: one core per worker, as on a cluster node with one worker per
core). Each configuration runs in its own Python process so that its peak memory is its
own.

Prints per configuration: wall time of the partitioned matrix, of which the client's
street work before routing starts (in process: every street table; on a cluster:
snapping and the egress table, the tasks computing their origins' access and direct
rows) and chunk routing; peak memory of the client and of each worker; bytes and rows
written; then the wall time of the network-direct accessibility (jobs within 30, 45
and 60 minutes, routed chunk by chunk and reduced at once; each child cell gets an even
share of its parent's jobs, as of its population). Then the arithmetic predicting a
50,000-origin region on 32 workers, fitted on a second one-worker run to the 1,227
resolution-9 cells (matrix only).

Usage: python benchmarks/scale.py [--origins N] [--window MIN] [--configs 0,1,2]
``--origins`` takes that many resolution-10 cells, evenly spread (default: all); ``--window`` is the
departure window in minutes (default 10, r5py's default). On a shared 2-core machine
use reduced sizes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

DEPARTURE = dt.datetime(2019, 5, 13, 14, 0)
REGION_ORIGINS = 50_000
REGION_WORKERS = 32


def res10_cells(data):
    """Resolution-10 children of the hexgrid cells, population and jobs split evenly."""
    import geopandas as gpd
    import h3
    import pandas as pd

    rows = []
    for cell in data.origins.itertuples():
        children = h3.cell_to_children(cell.id, 10)
        for child in children:
            lat, lon = h3.cell_to_latlng(child)
            share = 1 / len(children)
            rows.append((child, lon, lat, cell.population * share, cell.jobs * share))
    table = pd.DataFrame(rows, columns=["id", "lon", "lat", "population", "jobs"])
    return gpd.GeoDataFrame(
        table.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(table["lon"], table["lat"]),
        crs="EPSG:4326",
    )


def spread(n: int, count: int):
    """Positions of ``count`` of ``n`` cells, evenly spread over the catalog's order (all if 0)."""
    import numpy as np

    if not count or count >= n:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, count)).astype(int))


def peak_mb() -> float:
    """Peak resident memory of this process, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_s() -> float:
    """CPU seconds this process has used (all its threads)."""
    return time.process_time()


def run_one(config: int, count: int, window: int, destinations: str, access: bool = True) -> dict:
    """One configuration in this process: 0 = in process, k = LocalCluster of k workers."""
    if config:  # one core per worker; in process, numba's threads use every core
        os.environ["NUMBA_NUM_THREADS"] = "1"
    import transitmile as tm
    import transitmile.access.accessibility as access_module
    import transitmile.distributed as distributed_module

    data = tm.fetch_dataset("porto_alegre", progress=False)
    network = tm.TransportNetwork(data.osm_pbf, data.gtfs, DEPARTURE.date(), progress=False)
    cells = res10_cells(data)
    origins = cells.iloc[spread(len(cells), count)].reset_index(drop=True)
    targets = cells if destinations == "res10" else data.origins
    marks = {}
    original = distributed_module.run_blocks

    def timed_run_blocks(*args, **kwargs):  # street tables are done when routing starts
        marks.setdefault("routing_started", time.perf_counter())
        marks.setdefault("cpu_started", cpu_used())
        yield from original(*args, **kwargs)

    def cpu_used() -> float:  # by the processes that route: the workers, or this one
        return sum(client.run(cpu_s).values()) if client is not None else cpu_s()

    distributed_module.run_blocks = timed_run_blocks
    client = cluster = None
    if config:
        from dask.distributed import Client, LocalCluster

        cluster = LocalCluster(
            n_workers=config, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # warm-up: every process loads numba's compiled kernels from its cache once
        tm.travel_time_matrix(
            network, origins.iloc[: 4 * max(config, 1)], targets.iloc[:50], client=client,
            chunk_size=1, departure=DEPARTURE, engine="embedded", progress=False,
            departure_time_window=dt.timedelta(minutes=1),
        )  # fmt: skip
        marks.clear()
        started = time.perf_counter()
        folder = tm.write_travel_time_matrix(
            network, origins, targets, path=Path(tmp) / "ttm", client=client,
            departure=DEPARTURE, departure_time_window=dt.timedelta(minutes=window),
            engine="embedded", progress=False,
        )  # fmt: skip
        wall = time.perf_counter() - started
        routing_cpu = cpu_used() - marks["cpu_started"]
        manifest = json.loads((folder / "_manifest.json").read_text())
        if not access:
            jobs, access_wall = None, float("nan")
        else:  # network-direct accessibility: jobs within 30/45/60 min, never a whole matrix
            access_module.CHUNK_ORIGINS = 64  # the same blocks in every configuration
            access_started = time.perf_counter()
            jobs = tm.accessibility(
                network, targets, "jobs", "cumulative", cutoffs=(30, 45, 60), origins=origins,
                departure=DEPARTURE, departure_time_window=dt.timedelta(minutes=window),
                engine="embedded", progress=False, client=client,
            )  # fmt: skip
            access_wall = time.perf_counter() - access_started
    jobs_45 = float("nan") if jobs is None else float(jobs["jobs_cumulative_45min"].mean())
    workers = []
    if client is not None:
        workers = sorted(client.run(peak_mb).values())
        client.close()
        cluster.close()
    return {
        "config": config,
        "origins": len(origins),
        "destinations": len(targets),
        "window_min": window,
        "wall_s": wall,
        "street_s": marks["routing_started"] - started,
        "stops": int(network.timetable.n_stops),
        "routing_s": wall - (marks["routing_started"] - started),
        "routing_cpu_s": routing_cpu,
        "client_peak_mb": peak_mb(),
        "worker_peak_mb": workers,
        "access_s": access_wall,
        "jobs_45_mean": jobs_45,
        "bytes": manifest["n_bytes"],
        "rows": manifest["n_rows"],
        "parts": len(manifest["parts"]),
    }


def spawn(config: int, args, destinations: str = "res10", access: bool = True) -> dict:
    """Run one configuration in a fresh Python process; its JSON line back."""
    command = [sys.executable, __file__, "--run", str(config), "--destinations", destinations,
               "--count", str(args.count), "--window", str(args.window)]  # fmt: skip
    command += [] if access else ["--no-access"]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def describe(result: dict) -> str:
    name = "in process" if result["config"] == 0 else f"{result['config']} worker(s)"
    workers = ", ".join(f"{m:.0f}" for m in result["worker_peak_mb"]) or "-"
    return (
        f"{name:>12}: wall {result['wall_s']:7.1f} s (client streets {result['street_s']:5.1f} s, "
        f"routing {result['routing_s']:7.1f} s, {result['routing_cpu_s']:7.1f} CPU s); peak MB client {result['client_peak_mb']:.0f}, "
        f"workers [{workers}]; {result['bytes'] / 1e6:.1f} MB in {result['parts']} parts, "
        f"{result['rows']:,} rows; accessibility {result['access_s']:.1f} s "
        f"(mean jobs within 45 min {result['jobs_45_mean']:,.0f})"
    )


def predict(results: list[dict], small: dict) -> None:
    """The arithmetic for a 50,000-origin region (as many destinations) on 32 workers."""
    one = next(r for r in results if r["config"] == 1)
    two = next((r for r in results if r["config"] == 2), None)
    n_o, n_d, window = one["origins"], one["destinations"], one["window_min"]
    # routing CPU seconds per origin and departure minute on one core: a + b * destinations,
    # from the same origins to two destination sets (one worker each). The tasks also
    # compute their origins' street rows (once per origin, not per minute): counting them
    # per minute overstates a 60-minute window a little.
    per_big = one["routing_cpu_s"] / (n_o * window)
    per_small = small["routing_cpu_s"] / (small["origins"] * small["window_min"])
    b = (per_big - per_small) / (n_d - small["destinations"])
    a = per_big - b * n_d
    print("\nrouting CPU per origin and departure minute: a + b * destinations")
    print(f"  {per_small * 1e3:.2f} ms at {small['destinations']:,} destinations, "
          f"{per_big * 1e3:.2f} ms at {n_d:,}: a = {a * 1e3:.2f} ms, b = {b * 1e6:.3f} us")  # fmt: skip
    # parallel efficiency: CPU per chunk on 2 workers vs 1 (chunks share nothing, so the
    # loss is overhead: scheduling, serialisation, the template shipped to each worker)
    efficiency = 1.0 if two is None else one["routing_cpu_s"] / two["routing_cpu_s"]
    if two is not None:
        print(f"  routing wall, 2 workers vs 1: {one['routing_s'] / two['routing_s']:.2f}x faster;"
              f" CPU 2 workers / 1 worker = {1 / efficiency:.2f} (efficiency {efficiency:.0%})")  # fmt: skip
    n = REGION_ORIGINS
    cpu = n * (a + b * n) * 60
    wall_routing = cpu / (REGION_WORKERS * efficiency)
    # on the client: snapping, and one egress search (at most 2,000 m) per stop or per
    # destination, whichever are fewer; the origins' access searches run in the tasks
    region_stops = 5 * one["stops"]
    searches, region_searches = min(one["stops"], n_d), min(region_stops, n)
    street = one["street_s"] * region_searches / searches
    bytes_per_pair = one["bytes"] / one["rows"]
    print(f"\n{n:,} origins x {n:,} destinations, 60-minute window, {REGION_WORKERS} workers:")
    print(f"  routing CPU   = {n:,} x ({a * 1e3:.2f} ms + {b * 1e6:.3f} us x {n:,}) x 60 min"
          f" = {cpu:,.0f} s = {cpu / 3600:.1f} core-hours")  # fmt: skip
    print(f"  routing wall  = {cpu:,.0f} s / ({REGION_WORKERS} x {efficiency:.2f}) "
          f"= {wall_routing:,.0f} s = {wall_routing / 60:.0f} min")  # fmt: skip
    print(f"  client streets (snapping, egress) ~ {one['street_s']:.1f} s x {region_searches:,}"
          f" egress searches ({region_stops:,} stops, assumed 5x POA's) / {searches:,}"
          f" = {street:,.0f} s")  # fmt: skip
    print(f"  output        = {n * n:,} pairs x {bytes_per_pair:.2f} B = {n * n * bytes_per_pair / 1e9:,.1f} GB"
          f" (at this window's share of reachable pairs)")  # fmt: skip
    print("  caveat: a larger region has more stops and trips than POA: a grows with them")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, default=None, help="about this many origins")
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--window", type=int, default=10, help="departure window, minutes")
    parser.add_argument("--configs", default="0,1,2", help="0 = in process, k = k workers")
    parser.add_argument("--run", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--destinations", default="res10", help=argparse.SUPPRESS)
    parser.add_argument("--no-access", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run is not None:
        result = run_one(args.run, args.count, args.window, args.destinations, not args.no_access)
        print(json.dumps(result))
        return
    args.count = args.origins or 0
    print(f"POA at H3 resolution 10: {args.count or 'all'} cells (evenly spread) as origins, all cells as "
          f"destinations, {args.window}-minute window from {DEPARTURE:%H:%M}")  # fmt: skip
    results = []
    for config in (int(c) for c in args.configs.split(",")):
        results.append(spawn(config, args))
        print(describe(results[-1]), flush=True)
    if any(r["config"] == 1 for r in results):
        small = spawn(1, args, destinations="res9", access=False)
        print(describe(small) + "  (resolution-9 destinations)")
        predict(results, small)


if __name__ == "__main__":
    main()
