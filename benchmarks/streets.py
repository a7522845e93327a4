"""Street graph benchmark on Porto Alegre: build, snap, travel time tables, pickling.

Run: ``TRANSITMILE_DATA_DIR=... python benchmarks/streets.py``. Prints figures only;
timings never fail anything.
"""

from __future__ import annotations

import pickle
import time
import tracemalloc
import warnings
import zipfile

import geopandas as gpd
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


def main() -> None:
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
