"""Data set catalog: upstream address + sha256 for every file, on pooch.

A file is looked for, in order, in the folders of ``TRANSITMILE_DATA_DIR``
(``settings.data_dirs``, each folder and its direct sub-folders), then in the
local cache, then downloaded with a progress bar. Every copy is checked
against its sha256; a file whose hash does not match is rejected by name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pooch

from . import settings
from .errors import DataError

__all__ = ["Dataset", "fetch_dataset", "fetch_file", "list_datasets", "file_sha256", "path_sha256"]

_R5R_COMMIT = "65e61dfce4c24e53293b9c919c701399f752f549"
_R5R_POA = (
    f"https://raw.githubusercontent.com/ipeaGIT/r5r/{_R5R_COMMIT}/r-package/inst/extdata/poa/"
)


@dataclass(frozen=True)
class _File:
    url: str | None  # None: no single-file upstream (provide it through TRANSITMILE_DATA_DIR)
    sha256: str
    description: str


FILES: dict[str, _File] = {
    "poa_eptc.zip": _File(
        _R5R_POA + "poa_eptc.zip",
        "90f9e66980efc998d4bf69f13b760b93bb85bf41f884eb6818629cd261a547ba",
        "GTFS, EPTC city buses, Porto Alegre (many blank non-timepoint times)",
    ),
    "poa_trensurb.zip": _File(
        _R5R_POA + "poa_trensurb.zip",
        "1c0162e0b7c76604c79037e9e9879f94325989b3775cec854e93fe9473fd99f1",
        "GTFS, Trensurb metro rail, Porto Alegre",
    ),
    "poa_osm.pbf": _File(
        _R5R_POA + "poa_osm.pbf",
        "d0d692b2b13c3ccabb494856966ea40068fbb3b6d5534b70b9234c74f465787d",
        "OpenStreetMap extract of central Porto Alegre",
    ),
    "poa_hexgrid.csv": _File(
        _R5R_POA + "poa_hexgrid.csv",
        "2ed19dde671d13736faadba1a614650c93c2b7b96ec64ce1889d23b5796e5c8a",
        "1,227 H3 resolution-9 cells: population, schools, jobs, healthcare",
    ),
    "poa_points_of_interest.csv": _File(
        _R5R_POA + "poa_points_of_interest.csv",
        "d985fe56a2eb795546d5708157856c7c51d0b266478f6340a11f713cc41ad785",
        "15 named places in Porto Alegre",
    ),
    # partridge's test fixtures (remix/partridge 7b3d2c7, tests/fixtures/<name>/), zipped.
    "caltrain-2017-07-24.zip": _File(
        None,
        "e0d07493131cd43925e8f500dd6533d40ee4a8bb210041a3571dc502e5295234",
        "Caltrain GTFS with calendar_dates exceptions (partridge test fixture)",
    ),
    "trimet-vermont-2018-02-06.zip": _File(
        None,
        "4ab75359207f5b9ec57193735e0e8ffecb7bfb85b54573b76668c9538d054b28",
        "Small TriMet bus GTFS with feed_info and transfers (partridge test fixture)",
    ),
}


@dataclass(frozen=True)
class _DatasetSpec:
    osm_pbf: str
    gtfs: tuple[str, ...]
    origins: str
    pois: str
    description: str
    suggested_date: str


DATASETS: dict[str, _DatasetSpec] = {
    "porto_alegre": _DatasetSpec(
        osm_pbf="poa_osm.pbf",
        gtfs=("poa_eptc.zip", "poa_trensurb.zip"),
        origins="poa_hexgrid.csv",
        pois="poa_points_of_interest.csv",
        description="Porto Alegre, Brazil: EPTC buses + Trensurb metro, OSM, H3 population grid "
        "(r5r's sample data, MIT / open data / ODbL)",
        suggested_date="2019-05-13",
    ),
}


#: Where each data set's files come from and under which licence (reports state them).
SOURCES: dict[str, tuple[str, ...]] = {
    "porto_alegre": (
        "EPTC city bus GTFS (Porto Alegre): open data published by EPTC, via r5r's sample data",
        "Trensurb metro GTFS: open data published by Trensurb, via r5r's sample data",
        "OpenStreetMap extract: © OpenStreetMap contributors, ODbL 1.0",
        "H3 population, jobs, schools and healthcare grid: r5r's sample data (IPEA), MIT",
    ),
}


@dataclass
class Dataset:
    """Files and layers of one study area.

    Attributes
    ----------
    name : str
    osm_pbf : Path
        OpenStreetMap extract.
    gtfs : list of Path
        GTFS feeds (zip).
    origins : GeoDataFrame
        ``id, population, jobs, schools, healthcare, geometry`` (points, EPSG:4326).
    pois : GeoDataFrame
        ``id, geometry`` named points of interest (EPSG:4326).
    suggested_date : str
        A representative weekday with full service, ISO format.
    """

    name: str
    osm_pbf: Path
    gtfs: list[Path]
    origins: gpd.GeoDataFrame
    pois: gpd.GeoDataFrame
    suggested_date: str
    files: dict[str, Path] = field(default_factory=dict)


def list_datasets() -> pd.DataFrame:
    """List the data sets in the catalog, one row each (name, description, files)."""
    rows = [
        {
            "name": name,
            "description": spec.description,
            "files": ", ".join([spec.osm_pbf, *spec.gtfs, spec.origins, spec.pois]),
            "suggested_date": spec.suggested_date,
        }
        for name, spec in DATASETS.items()
    ]
    return pd.DataFrame(rows)


def file_sha256(path: str | Path) -> str:
    """sha256 hex digest of a file (read once per process while unchanged)."""
    path = Path(path).resolve()
    stat = path.stat()
    return _file_sha256(path, stat.st_size, stat.st_mtime_ns)


@cache
def _file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    # Keyed by size and mtime so an edited file is hashed again; the catalog, feeds,
    # streets and the network cache key all ask for the same inputs' hashes.
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def path_sha256(path: str | Path) -> str:
    """sha256 of a file, or of a folder's files (relative names and contents, sorted)."""
    path = Path(path)
    if path.is_file():
        return file_sha256(path)
    digest = hashlib.sha256()
    for member in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(member.relative_to(path).as_posix().encode())
        digest.update(file_sha256(member).encode())
    return digest.hexdigest()


def _check(path: Path, name: str, expected: str) -> Path:
    if file_sha256(path) != expected:
        raise DataError(
            f"data file {str(path)!r} does not match the catalog's sha256 for {name!r}: "
            f"expected {expected}, found {file_sha256(path)}. Remove or replace it; "
            "a file with the wrong content is never used."
        )
    return path


def _candidates(name: str) -> list[Path]:
    found = []
    for folder in settings.data_dirs:
        folder = folder.resolve()
        if not folder.is_dir():
            continue
        found.extend(p for p in [folder / name, *folder.glob(f"*/{name}")] if p.is_file())
    return found


def fetch_file(name: str, *, progress: bool | None = None) -> Path:
    """Local path of one catalog file, verified against its sha256.

    Parameters
    ----------
    name : str
        File name as listed in ``transitmile.data.FILES``.
    progress : bool, optional
        Show a download progress bar (default: ``settings.progress``).

    Raises
    ------
    DataError
        Unknown name, a copy with the wrong hash, or missing and not downloadable.
    """
    if name not in FILES:
        raise DataError(f"unknown data file {name!r}; the catalog has: {sorted(FILES)}")
    entry = FILES[name]
    for path in _candidates(name):
        return _check(path, name, entry.sha256)
    cache_dir = settings.cache_dir / "data"
    cached = cache_dir / name
    if cached.is_file():
        return _check(cached, name, entry.sha256)
    how = (
        f"Set TRANSITMILE_DATA_DIR to a folder holding {name!r} "
        f"(currently: {[str(d) for d in settings.data_dirs] or 'not set'})"
    )
    if entry.url is None:
        raise DataError(f"data file {name!r} not found and it has no download address. {how}.")
    show = settings.progress if progress is None else progress
    try:
        path = pooch.retrieve(
            entry.url,
            known_hash=f"sha256:{entry.sha256}",
            fname=name,
            path=cache_dir,
            progressbar=show,
        )
    except ValueError as exc:  # pooch: hash mismatch of the download
        raise DataError(
            f"download of {name!r} from {entry.url} failed its sha256 check: {exc}"
        ) from exc
    except Exception as exc:  # network down, HTTP error, DNS ...
        raise DataError(
            f"data file {name!r} is not available locally and could not be downloaded from "
            f"{entry.url} ({type(exc).__name__}: {exc}). {how}, or place it in {cache_dir}."
        ) from exc
    return Path(path)


def _read_points(path: Path, columns: list[str]) -> gpd.GeoDataFrame:
    table = pd.read_csv(path, dtype={"id": str})
    missing = [c for c in ["id", "lon", "lat", *columns] if c not in table.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; found {list(table.columns)}")
    geometry = gpd.points_from_xy(table["lon"], table["lat"], crs="EPSG:4326")
    return gpd.GeoDataFrame(table[["id", *columns]], geometry=geometry)


def fetch_dataset(name: str = "porto_alegre", *, progress: bool | None = None) -> Dataset:
    """Files and layers of a catalog data set, fetched and verified.

    Parameters
    ----------
    name : str
        Data set name, see :func:`list_datasets` (``"porto_alegre"``).
    progress : bool, optional
        Show download progress bars.

    Returns
    -------
    Dataset
    """
    if name not in DATASETS:
        raise DataError(f"unknown data set {name!r}; available: {sorted(DATASETS)}")
    spec = DATASETS[name]
    names = [spec.osm_pbf, *spec.gtfs, spec.origins, spec.pois]
    files = {n: fetch_file(n, progress=progress) for n in names}
    origins = _read_points(files[spec.origins], ["population", "jobs", "schools", "healthcare"])
    pois = _read_points(files[spec.pois], [])
    return Dataset(
        name=name,
        osm_pbf=files[spec.osm_pbf],
        gtfs=[files[g] for g in spec.gtfs],
        origins=origins,
        pois=pois,
        suggested_date=spec.suggested_date,
        files=files,
    )
