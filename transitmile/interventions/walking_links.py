"""Walking links: new footbridges, cut-throughs and crossings, and a walking speed.

New links are written into a copy of the OSM extract
(:func:`transitmile.street_edits.write_osm_with_links`) and the scenario network is
built from that copy, so the embedded engine's street graphs and R5 read the very
same edited streets. A walking speed change is a routing parameter (``speed_walking``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import shapely

from ..errors import NetworkError, StudyError, show_value
from ..street_edits import write_osm_with_links
from .base import Intervention, as_geometry, check_inside, positive
from .costs import Costs

__all__ = ["WalkingLinks"]


@dataclass(eq=False)
class WalkingLinks(Intervention):
    """New pedestrian links and an optional walking speed for a scenario.

    Parameters
    ----------
    name : str
    links : list
        LineStrings in lon/lat: shapely geometries or GeoJSON mappings, or a
        GeoDataFrame (other columns become OSM tags, e.g. ``name``, ``bridge``).
    closed_ways : list of int
        OSM ids of street ways closed to pedestrians in the scenario (a crossing
        removed, a path fenced off).
    speed_walking : float, optional
        Walking speed in km/h for the scenario (e.g. after sidewalk works), else the
        study's.
    costs : Costs
        Capital works: required (no unit costs are assumed for structures).
    """

    name: str
    links: list | gpd.GeoDataFrame = field(default_factory=list)
    closed_ways: list[int] = field(default_factory=list)
    speed_walking: float | None = None
    costs: Costs | None = None

    kind = "walking_links"
    lead_time = "capital"
    owner_role = "public works (street design)"

    def __post_init__(self) -> None:
        """Check the links (StudyError naming the field)."""
        owner = f"walking_links {self.name!r}"
        if isinstance(self.links, gpd.GeoDataFrame):
            if self.links.crs is None:
                raise StudyError(f"{owner}: field 'links' has no CRS")
            frame = self.links.to_crs("EPSG:4326")
        else:
            if not isinstance(self.links, list) or not (self.links or self.closed_ways):
                raise StudyError(
                    f"{owner}: field 'links' must list at least one LineString, got {show_value(self.links)}"
                )
            geoms = [
                as_geometry(g, owner, f"links[{k}]", ("LineString",))
                for k, g in enumerate(self.links)
            ]
            frame = gpd.GeoDataFrame({"name": [f"{self.name} {k + 1}" for k in range(len(geoms))]},
                                     geometry=geoms, crs="EPSG:4326")  # fmt: skip
        for k, geometry in enumerate(frame.geometry):
            as_geometry(geometry, owner, f"links[{k}]", ("LineString",))
        self.links = frame.reset_index(drop=True)
        bad = [w for w in self.closed_ways if isinstance(w, bool) or not isinstance(w, int)]
        if not isinstance(self.closed_ways, list) or bad:
            raise StudyError(
                f"{owner}: field 'closed_ways' must list OSM way ids (whole numbers), "
                f"got {show_value(bad[:3] if bad else self.closed_ways)}"
            )
        if self.speed_walking is not None:
            positive(owner, "speed_walking", self.speed_walking)

    def total_costs(self) -> Costs:
        """Return the given costs (structures have no default)."""
        if self.costs is None:
            raise StudyError(
                f"walking_links {self.name!r}: field 'costs' is required (capital works)"
            )
        return self.costs

    def describe(self) -> str:
        """Say what and where, for the plan."""
        names = ", ".join(str(n) for n in self.links.get("name", []))
        closed = f"; {len(self.closed_ways)} way(s) closed" if self.closed_ways else ""
        return f"walking links {self.name!r}: {len(self.links)} new link(s) ({names}){closed}"

    def geometry(self) -> shapely.Geometry | None:
        """Return the new links, lon/lat (None when it only closes ways)."""
        return self.links.union_all() if len(self.links) else None

    def check(self, network) -> None:
        """Raise StudyError when a link lies (partly) outside the network's streets."""
        if len(self.links):
            check_inside(network, self.geometry(), f"walking_links {self.name!r}", "links")


def write_edited_osm(network, links: list[WalkingLinks], path: str | os.PathLike) -> Path:
    """Write the network's OSM extract with every link of ``links`` added to ``path``.

    Parameters
    ----------
    network : TransportNetwork
        Baseline (its ``osm_pbf`` is copied, never changed).
    links : list of WalkingLinks
    path : path-like
        Target ``.osm.pbf`` (written atomically).

    Returns
    -------
    Path
    """
    import pandas as pd

    for item in links:
        item.check(network)
    frame = gpd.GeoDataFrame(
        pd.concat([item.links for item in links], ignore_index=True), crs="EPSG:4326"
    )
    closed = sorted({way for item in links for way in item.closed_ways})
    try:
        return write_osm_with_links(
            network.osm_pbf, frame if len(frame) else None, path, closed_ways=closed
        )
    except NetworkError as exc:
        names = [item.name for item in links]
        raise StudyError(f"walking_links {names}: {exc}") from exc
