"""Write small hand-made GTFS feeds (folders or zips) for tests.

Every feed starts from a minimal valid base (one agency, one bus route, four stops
on the equator at 10 degrees east, one weekday service in January 2024) and a test overrides or adds
files as CSV text, so that each test shows exactly the rows it is about.
"""

from __future__ import annotations

import textwrap
import zipfile
from pathlib import Path

# Four stops in a row along the equator: 1113 m, 2226 m and 1113 m apart
# (0.01 degree of longitude is 1113.2 m there), i.e. distances in the ratio 1:2:1.
# At 10 degrees east, not (0, 0): stops within a degree of (0, 0) are placeholders
# (the validator's point_near_origin) and are treated as unlocated.
BASE = {
    "agency.txt": """
        agency_id,agency_name,agency_url,agency_timezone
        A,Test Agency,https://example.org,UTC
        """,
    "routes.txt": """
        route_id,agency_id,route_short_name,route_long_name,route_type
        R1,A,1,One,3
        """,
    "stops.txt": """
        stop_id,stop_name,stop_lat,stop_lon
        S1,One,0.0,10.00
        S2,Two,0.0,10.01
        S3,Three,0.0,10.03
        S4,Four,0.0,10.04
        """,
    "calendar.txt": """
        service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
        WK,1,1,1,1,1,0,0,20240101,20240131
        """,
    "trips.txt": """
        route_id,service_id,trip_id,direction_id
        R1,WK,T1,0
        """,
    "stop_times.txt": """
        trip_id,arrival_time,departure_time,stop_id,stop_sequence
        T1,08:00:00,08:00:00,S1,1
        T1,,,S2,2
        T1,,,S3,3
        T1,08:10:00,08:10:00,S4,4
        """,
}


def write_feed(
    where: Path,
    files: dict[str, str | None] | None = None,
    *,
    as_zip: bool = False,
    subfolder: str | None = None,
) -> Path:
    """Write the base feed with ``files`` replacing or adding files (None removes one).

    Parameters
    ----------
    where : Path
        Folder to create (or the zip's path without the ``.zip`` suffix).
    files : dict
        File name -> CSV text (indentation is removed) or None to leave the file out.
    as_zip : bool
        Write ``<where>.zip`` instead of a folder.
    subfolder : str, optional
        Put the files under this folder inside the zip.
    """
    content = {**BASE, **(files or {})}
    texts = {
        name: textwrap.dedent(text).strip() + "\n"
        for name, text in content.items()
        if text is not None
    }
    if as_zip:
        path = where.with_suffix(".zip")
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w") as archive:
            for name, text in texts.items():
                archive.writestr(f"{subfolder}/{name}" if subfolder else name, text)
        return path
    where.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (where / name).write_text(text)
    return where
