"""Reading scenarios and economics from a study YAML; GBFS files; every bad input named."""

from __future__ import annotations

import json
import textwrap

import pytest

from transitmile.errors import StudyError
from transitmile.interventions import BikeShare, Microtransit, Scooters, Shuttle, WalkingLinks
from transitmile.scenarios import read_economics, read_scenarios

ECONOMICS = """
economics:
  value_of_time_per_hour: 12.5
  value_of_time_source: "assumption: half the mean hourly wage"
  trips_per_resident_per_weekday: 0.9
  trips_source: "assumption: household survey"
  discount_rate: 0.08
  currency: BRL
  annualisation_days: 250
"""

SCENARIOS = """
scenarios:
  - name: bikes
    notes: a cluster by the station
    interventions:
      - type: bike_share
        name: cluster
        stations: [{id: a, lon: -51.2, lat: -30.0, capacity: 12}, {id: b, lon: -51.21, lat: -30.01}]
        unlock_min: 0.5
  - name: mixed
    interventions:
      - type: shuttle
        name: feeder
        stops: [poa_eptc:1, {lon: -51.2, lat: -30.0}]
        headway_min: 10
        start: "06:00"
        end: "20:00"
        costs: {capital: 100, annual_operating: 10, life_years: 8, source: bid}
      - type: microtransit
        name: zone
        zone: {type: Polygon, coordinates: [[[-51.2, -30.0], [-51.1, -30.0], [-51.1, -30.1], [-51.2, -30.0]]]}
        hubs: [poa_trensurb:1]
      - type: walking_links
        name: bridge
        links: links.geojson
        costs: {capital: 1000000, life_years: 30, source: "assumption"}
"""

LINKS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Passarela"},
            "geometry": {"type": "LineString", "coordinates": [[-51.2, -30.0], [-51.201, -30.0]]},
        }
    ],
}


def study(tmp_path, text: str, name: str = "study.yml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    (tmp_path / "links.geojson").write_text(json.dumps(LINKS))
    return path


def test_reads_economics_and_scenarios(tmp_path):
    path = study(tmp_path, ECONOMICS + SCENARIOS)
    economics = read_economics(path)
    assert (economics.value_of_time_per_hour, economics.trips_per_resident_per_weekday) == (
        12.5,
        0.9,
    )
    bikes, mixed = read_scenarios(path)
    assert (bikes.name, bikes.notes) == ("bikes", "a cluster by the station")
    (cluster,) = bikes.interventions
    assert isinstance(cluster, BikeShare) and cluster.unlock_min == 0.5
    # one capacity unknown: 10 bikes per station
    assert cluster.stations["capacity"].tolist()[0] == 12 and cluster.n_bikes == 20
    shuttle, zone, bridge = mixed.interventions
    assert isinstance(shuttle, Shuttle) and shuttle.costs.capital == 100
    assert isinstance(zone, Microtransit) and zone.hubs == ["poa_trensurb:1"]
    assert isinstance(bridge, WalkingLinks) and bridge.links["name"].tolist() == ["Passarela"]
    assert mixed.access_services == [zone]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "type: shuttle",
            "type: gondola",
            r"scenario 'mixed': interventions item 0: field 'type' must be one of",
        ),
        (
            "headway_min: 10",
            "headway_min: 0",
            r"scenario 'mixed': shuttle 'feeder': field 'headway_min' must be a number > 0",
        ),
        (
            "headway_min: 10",
            "headway_min: 10\n        colour: red",
            r"scenario 'mixed': shuttle 'feeder': unknown field\(s\) \['colour'\]",
        ),
        (
            "stops: [poa_eptc:1, {lon: -51.2, lat: -30.0}]",
            "stops: [poa_eptc:1]",
            r"scenario 'mixed': shuttle 'feeder': field 'stops' needs at least two",
        ),
        (
            'end: "20:00"',
            'end: "31:00"',
            r"scenario 'mixed': shuttle 'feeder': service span 06:00-31:00 must lie inside the service day",
        ),
        (
            "capital: 100,",
            "capital: -100,",
            r"scenario 'mixed': shuttle 'feeder': costs: field 'capital' must be a number >= 0, got -100",
        ),
        (
            "[[[-51.2, -30.0]",
            "[[[485000, 6674000]",
            r"scenario 'mixed': microtransit 'zone' : field 'zone' has coordinates|scenario 'mixed': microtransit 'zone': field 'zone' has coordinates",
        ),
        (
            "links: links.geojson",
            "links: ../../etc/passwd",
            r"scenario 'mixed': walking_links 'bridge': field 'links' file '../../etc/passwd' lies outside",
        ),
        ("notes: a cluster", "note: a cluster", r"scenario 'bikes': unknown field\(s\) \['note'\]"),
    ],
)
def test_bad_input_names_the_scenario_and_the_field(tmp_path, old, new, message):
    text = SCENARIOS.replace(old, new)
    assert text != SCENARIOS
    with pytest.raises(StudyError, match=message):
        read_scenarios(study(tmp_path, text))


def test_economics_without_a_source_is_refused(tmp_path):
    text = ECONOMICS.replace('trips_source: "assumption: household survey"', "")
    with pytest.raises(StudyError, match=r"economics: missing field\(s\) \['trips_source'\]"):
        read_economics(study(tmp_path, text))


def test_bike_share_from_gbfs_files(tmp_path):
    info = {"data": {"stations": [
        {"station_id": "1", "name": [{"text": "Mercado", "language": "pt"}], "lat": -30.027, "lon": -51.228, "capacity": 14},
        {"station_id": "2", "name": "Usina", "lat": -30.034, "lon": -51.241, "capacity": 10},
    ]}}  # fmt: skip
    status = {
        "data": {
            "stations": [{"station_id": "1", "num_bikes_available": 5, "num_docks_available": 9}]
        }
    }
    folder = tmp_path / "bikepoa"
    folder.mkdir()
    (folder / "station_information.json").write_text(json.dumps(info))
    (folder / "station_status.json").write_text(json.dumps(status))
    bikes = BikeShare.from_gbfs(folder)
    assert bikes.name == "bikepoa" and bikes.stations["id"].tolist() == ["1", "2"]
    assert bikes.stations["capacity"].tolist() == [14, 10] and bikes.n_bikes == 12
    text = SCENARIOS.replace(
        "stations: [{id: a, lon: -51.2, lat: -30.0, capacity: 12}, {id: b, lon: -51.21, lat: -30.01}]",
        "gbfs: bikepoa/station_information.json",
    )
    (bikes_from_yaml, _) = read_scenarios(study(tmp_path, text))
    assert bikes_from_yaml.interventions[0].stations["id"].tolist() == ["1", "2"]
    typo = text.replace("unlock_min: 0.5", "unlock_mins: 0.5")
    with pytest.raises(
        StudyError, match=r"bike_share 'cluster': unknown field\(s\) \['unlock_mins'\]"
    ):
        read_scenarios(study(tmp_path, typo))


def test_scooter_area_from_gbfs_geofencing_zones(tmp_path):
    def square(x0, y0, x1, y1):
        return {
            "type": "Polygon",
            "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
        }

    zones = {"data": {"geofencing_zones": {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": square(0, 0, 2, 2), "properties": {"rules": [{"ride_allowed": True}]}},
        {"type": "Feature", "geometry": square(0, 0, 1, 1), "properties": {"rules": [{"ride_allowed": False}]}},
    ]}}}  # fmt: skip
    path = tmp_path / "geofencing_zones.json"
    path.write_text(json.dumps(zones))
    scooters = Scooters.from_gbfs(path, name="downtown")
    # a 2 x 2 square less its 1 x 1 no-ride corner
    assert scooters.area.area == pytest.approx(3.0)
