"""Write a loaded Feed back out as plain GTFS: one service day, complete times.

Useful to hand the interpolated, frequency-expanded timetable to tools that
reject blank non-timepoint times (e.g. peer RAPTOR engines in benchmarks), and
to inspect exactly what transitmile routes on.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .model import Feed

__all__ = ["write_gtfs"]


def _clock(seconds: pd.Series) -> pd.Series:
    s = seconds.to_numpy(dtype=np.int64)
    h, rest = np.divmod(s, 3600)
    m, sec = np.divmod(rest, 60)
    return pd.Series([f"{a:02d}:{b:02d}:{c:02d}" for a, b, c in zip(h, m, sec, strict=True)])


def write_gtfs(feed: Feed, folder: str | os.PathLike) -> Path:
    """Write ``feed`` as a GTFS folder valid on its service date only.

    Parameters
    ----------
    feed : Feed
        A loaded feed (times complete, ids already prefixed when merged).
    folder : path
        Target folder; it is written next to itself under a temporary name and
        moved into place, replacing an existing folder of that name.

    Returns
    -------
    Path
        The folder written. All trips run on one service, ``service_date``,
        described in calendar.txt (start = end = the date).
    """
    target = Path(folder).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        day = feed.service_date
        service_id = f"transitmile_{day:%Y%m%d}"
        agencies = feed.agencies.assign(
            agency_url="https://example.invalid/", agency_timezone="UTC"
        )
        agencies.to_csv(tmp / "agency.txt", index=False)
        stops = feed.stops[["stop_id", "stop_name", "stop_lat", "stop_lon"]]
        stops.to_csv(tmp / "stops.txt", index=False)
        feed.routes[
            ["route_id", "agency_id", "route_short_name", "route_long_name", "route_type"]
        ].to_csv(tmp / "routes.txt", index=False)
        trips = feed.trips[["trip_id", "route_id"]].assign(service_id=service_id)
        trips.to_csv(tmp / "trips.txt", index=False)
        st = feed.stop_times
        pd.DataFrame(
            {
                "trip_id": st["trip_id"].to_numpy(),
                "arrival_time": _clock(st["arrival_time"]),
                "departure_time": _clock(st["departure_time"]),
                "stop_id": st["stop_id"].to_numpy(),
                "stop_sequence": st["stop_sequence"].to_numpy(),
            }
        ).to_csv(tmp / "stop_times.txt", index=False)
        weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        calendar = {"service_id": [service_id]}
        calendar |= {name: [int(i == day.weekday())] for i, name in enumerate(weekdays)}
        calendar |= {"start_date": [f"{day:%Y%m%d}"], "end_date": [f"{day:%Y%m%d}"]}
        pd.DataFrame(calendar).to_csv(tmp / "calendar.txt", index=False)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
