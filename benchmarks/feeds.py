"""Time load_feeds on Porto Alegre (EPTC + Trensurb) and print row counts.

Run: ``TRANSITMILE_DATA_DIR=... python benchmarks/feeds.py``. Prints figures only.
"""

from __future__ import annotations

import datetime
import statistics
import time

from transitmile.data import fetch_dataset
from transitmile.feeds import feed_summary, frequent_stops, load_feeds, stop_service


def main(repeats: int = 5) -> None:
    paths = fetch_dataset("porto_alegre").gtfs
    date = datetime.date(2019, 5, 13)
    timings, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        feed = load_feeds(paths, date=date, progress=False)
        timings.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    # CPU time too: on a shared machine it varies far less than wall-clock time.
    print(
        f"load_feeds POA (2 feeds, {date}): median {statistics.median(timings):.3f} s "
        f"(CPU {statistics.median(cpu):.3f} s), best {min(timings):.3f} s of {repeats}; "
        f"{len(feed.notices)} notices"
    )
    for name in ("agencies", "routes", "stops", "trips", "stop_times", "transfers"):
        print(f"  {name:<11} {len(getattr(feed, name)):>8,}")
    print(f"  interpolated stop times: {feed.stop_times['interpolated'].mean():.1%}")
    start = time.perf_counter()
    service = stop_service(feed, "07:00", "09:00")
    print(f"stop_service 07-09: {time.perf_counter() - start:.3f} s, {len(service)} stops")
    for window in (("07:00", "09:00"), ("14:00", "16:00")):
        print(
            f"frequent stops (<= 15 min) {window[0]}-{window[1]}: {len(frequent_stops(feed, *window))}"
        )
    start = time.perf_counter()
    busiest = load_feeds(paths, progress=False)
    print(f"load_feeds busiest date ({busiest.service_date}): {time.perf_counter() - start:.2f} s")
    print(feed_summary(feed).set_index("feed").T.to_string())


if __name__ == "__main__":
    main()
