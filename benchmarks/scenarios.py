"""Scenario comparison benchmark on Porto Alegre (prints figures; asserts nothing about time).

The study's four scenarios (data/studies/porto_alegre.yml: bike-share, shuttle,
microtransit, walking links) plus the baseline, measured by ``compare_scenarios``
over all 1,227 hexgrid cells with a 60-minute departure window from 14:00 on
2019-05-13, against one baseline travel time matrix with r5py's defaults (the
README's matrix: 60-minute window, 2-hour limit). Both run in the same process, in
the same run, on a warm network cache; scenario files are rebuilt cold each repeat.

Prints the median wall time of each over --repeat runs, their ratio, the peak memory
of the process, and the comparison table.

Usage: python benchmarks/scenarios.py [--repeat 3] [--sample N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

import transitmile as tm
from transitmile.scenarios import compare_scenarios, read_economics, read_scenarios
from transitmile.streets import UnsnappedPointsWarning

DEPARTURE = dt.datetime(2019, 5, 13, 14, 0)
WINDOW = dt.timedelta(minutes=60)
STUDY = Path(__file__).resolve().parent.parent / "data" / "studies" / "porto_alegre.yml"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=None, help="every Nth origin only")
    args = parser.parse_args()
    warnings.simplefilter("ignore", UnsnappedPointsWarning)
    data = tm.fetch_dataset("porto_alegre", progress=False)
    network = tm.TransportNetwork(data.osm_pbf, data.gtfs, DEPARTURE.date(), progress=False)
    origins = data.origins if args.sample is None else data.origins.iloc[:: args.sample]
    scenarios, economics = read_scenarios(STUDY), read_economics(STUDY)
    # warm-up: numba compilation and the baseline network's first use are not measured
    tm.travel_time_matrix(network, origins.iloc[:5], origins, departure=DEPARTURE,
                          departure_time_window=dt.timedelta(minutes=1), engine="embedded",
                          progress=False)  # fmt: skip

    matrix_s, compare_s, table = [], [], None
    for _ in range(args.repeat):
        started = time.perf_counter()
        tm.travel_time_matrix(network, origins, origins, departure=DEPARTURE,
                              departure_time_window=WINDOW, engine="embedded", progress=False)  # fmt: skip
        matrix_s.append(time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as work:
            started = time.perf_counter()
            table = compare_scenarios(
                network, scenarios, origins, data.origins, economics=economics,
                departure=DEPARTURE, departure_time_window=WINDOW, workdir=work,
            )  # fmt: skip
            compare_s.append(time.perf_counter() - started)
    matrix, compare = statistics.median(matrix_s), statistics.median(compare_s)
    print(
        f"origins: {len(origins)}, destinations: {len(data.origins)}, window 60 min, {args.repeat} runs"
    )
    print(
        f"one baseline matrix (r5py defaults): {matrix:.1f} s  (runs {[round(t, 1) for t in matrix_s]})"
    )
    print(
        f"baseline + {len(scenarios)} scenarios: {compare:.1f} s  (runs {[round(t, 1) for t in compare_s]})"
    )
    print(f"ratio: {compare / matrix:.2f}x one baseline matrix")
    print(f"peak memory (RSS): {peak_rss_mb():.0f} MB")
    with pd.option_context("display.width", 200, "display.max_columns", 40):
        print(table.drop(columns=["notes"]).T.to_string())


if __name__ == "__main__":
    main()
