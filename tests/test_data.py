"""The data catalog: resolution order, checksums, and clear errors offline."""

from __future__ import annotations

import shutil

import pytest

from transitmile import data, settings
from transitmile.errors import DataError


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Empty data dirs and cache, and a network that is never reached."""
    monkeypatch.setattr(settings, "data_dirs", [tmp_path / "data"])
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    (tmp_path / "data").mkdir()

    def offline(*args, **kwargs):
        raise ConnectionError("no network in this test")

    monkeypatch.setattr(data.pooch, "retrieve", offline)
    return tmp_path


def test_porto_alegre_layers_have_the_documented_columns():
    ds = data.fetch_dataset("porto_alegre")
    assert list(ds.origins.columns) == [
        "id",
        "population",
        "jobs",
        "schools",
        "healthcare",
        "geometry",
    ]
    assert len(ds.origins) == 1227
    assert ds.origins["id"].is_unique
    assert ds.origins.crs.to_epsg() == 4326
    assert (ds.origins.geometry.geom_type == "Point").all()
    # Porto Alegre lies around 30 S, 51 W.
    assert ds.origins.geometry.y.between(-30.3, -29.9).all()
    assert ds.origins.geometry.x.between(-51.4, -51.0).all()
    assert ds.origins["population"].sum() > 0
    assert len(ds.pois) == 15
    assert [p.name for p in ds.gtfs] == ["poa_eptc.zip", "poa_trensurb.zip"]
    assert ds.osm_pbf.name == "poa_osm.pbf"


def test_file_is_verified_against_its_sha256(isolated):
    bad = isolated / "data" / "poa_points_of_interest.csv"
    bad.write_text("id,lat,lon\nfake,0,0\n")
    with pytest.raises(DataError) as err:
        data.fetch_file("poa_points_of_interest.csv")
    message = str(err.value)
    assert "poa_points_of_interest.csv" in message
    assert data.FILES["poa_points_of_interest.csv"].sha256 in message
    assert "never used" in message


def test_missing_file_offline_names_file_url_and_remedy(isolated):
    with pytest.raises(DataError) as err:
        data.fetch_file("poa_hexgrid.csv")
    message = str(err.value)
    assert "poa_hexgrid.csv" in message
    assert data.FILES["poa_hexgrid.csv"].url in message
    assert "TRANSITMILE_DATA_DIR" in message
    assert "ConnectionError" in message


def test_file_without_upstream_address_explains_how_to_provide_it(isolated):
    with pytest.raises(DataError, match="no download address.*TRANSITMILE_DATA_DIR"):
        data.fetch_file("caltrain-2017-07-24.zip")


def test_data_dir_subfolders_and_cache_are_searched(real_poi_csv, isolated):
    # A verified copy in a sub-folder of a data dir is found.
    sub = isolated / "data" / "nested"
    sub.mkdir()
    shutil.copy(real_poi_csv, sub)
    assert data.fetch_file("poa_points_of_interest.csv") == sub / "poa_points_of_interest.csv"
    # A verified copy in the cache is used when no data dir has it.
    (sub / "poa_points_of_interest.csv").unlink()
    cache = isolated / "cache" / "data"
    cache.mkdir(parents=True)
    shutil.copy(real_poi_csv, cache)
    assert data.fetch_file("poa_points_of_interest.csv") == cache / "poa_points_of_interest.csv"


def test_unknown_names_list_what_exists():
    with pytest.raises(DataError, match="porto_alegre"):
        data.fetch_dataset("atlantis")
    with pytest.raises(DataError, match="poa_osm.pbf"):
        data.fetch_file("atlantis.zip")


def test_list_datasets():
    table = data.list_datasets()
    assert list(table["name"]) == ["porto_alegre"]
    assert "poa_eptc.zip" in table.loc[0, "files"]


@pytest.fixture
def real_poi_csv():
    """The real points-of-interest file, found before the data dirs are isolated."""
    return data.fetch_file("poa_points_of_interest.csv")
