"""Shared fixtures: real feeds from the data catalog and a hand-made feed writer."""

from __future__ import annotations

import datetime

import pytest

from transitmile import data
from transitmile.errors import DataError

from .gtfs_builder import write_feed

POA_DATE = datetime.date(2019, 5, 13)


def _real(name: str):
    try:
        return data.fetch_file(name)
    except DataError as exc:
        pytest.skip(f"real data not available: {exc}")


@pytest.fixture(scope="session")
def poa_gtfs():
    """Porto Alegre EPTC (bus) and Trensurb (metro) GTFS zips."""
    return [_real("poa_eptc.zip"), _real("poa_trensurb.zip")]


@pytest.fixture(scope="session")
def poa_feed(poa_gtfs):
    """Both Porto Alegre feeds loaded for Monday 2019-05-13."""
    from transitmile.feeds import load_feeds

    return load_feeds(poa_gtfs, date=POA_DATE, progress=False)


@pytest.fixture(scope="session")
def caltrain_gtfs():
    return _real("caltrain-2017-07-24.zip")


@pytest.fixture(scope="session")
def trimet_gtfs():
    return _real("trimet-vermont-2018-02-06.zip")


@pytest.fixture
def make_feed(tmp_path):
    """``make_feed(name, {file: csv}, as_zip=False, subfolder=None) -> Path``."""

    def make(name: str = "feed", files=None, **kwargs):
        return write_feed(tmp_path / name, files, **kwargs)

    return make


@pytest.fixture(scope="session")
def poa_network(tmp_path_factory):
    """Porto Alegre streets + both feeds for 2019-05-13, built once into a test cache."""
    import transitmile as tm
    from transitmile import settings

    try:
        data = tm.fetch_dataset("porto_alegre", progress=False)
    except DataError as exc:
        pytest.skip(f"real data not available: {exc}")
    saved = settings.cache_dir
    settings.cache_dir = tmp_path_factory.mktemp("network_cache")
    try:
        network = tm.TransportNetwork(data.osm_pbf, data.gtfs, POA_DATE, progress=False)
    finally:
        settings.cache_dir = saved
    return network, data


#: Origins sampled in the notebook tests: enough for every figure, seconds to run.
TEST_SAMPLE_ORIGINS = 60
#: Departure minutes routed in the notebook tests (the study itself uses 60).
TEST_DEPARTURE_WINDOW_MIN = 10


@pytest.fixture(scope="session")
def study_reports(tmp_path_factory):
    """The Porto Alegre study run once by ``run_study`` on a sample of origins.

    Returns the report folder (executed notebooks, HTML, index) and the runs by
    notebook name. The notebook tests assert on the values the notebooks record,
    the browser tests open the HTML.
    """
    from pathlib import Path

    import yaml

    import transitmile as tm
    from transitmile.study import run_study

    try:
        tm.fetch_dataset("porto_alegre", progress=False)
    except DataError as exc:
        pytest.skip(f"real data not available: {exc}")
    repo = Path(__file__).parent.parent
    study = yaml.safe_load((repo / "data" / "studies" / "porto_alegre.yml").read_text())
    study["study"] = "poa_test"
    study["parameters"]["sample_origins"] = TEST_SAMPLE_ORIGINS
    study["parameters"]["departure_window_min"] = TEST_DEPARTURE_WINDOW_MIN
    study["notebooks"] = [str(repo / "notebooks" / f"{name}.ipynb") for name in study["notebooks"]]
    folder = tmp_path_factory.mktemp("study")
    path = folder / "poa_test.yml"
    path.write_text(yaml.safe_dump(study))
    runs = run_study(path, folder / "reports", force=True, jobs=2)
    return folder / "reports" / "poa_test", {run.notebook: run for run in runs}
