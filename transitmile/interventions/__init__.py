"""Interventions a scenario applies to the baseline network, and what they cost.

One module per intervention type: :mod:`.walking_links`, :mod:`.shuttle`,
:mod:`.bike_share`, :mod:`.microtransit`, :mod:`.scooters`; :mod:`.costs` turns
costs and minutes into money; :mod:`.gbfs` reads bike-share feeds.
"""

from __future__ import annotations

from .base import LEAD_TIMES, Intervention, canonical_json
from .bike_share import BikeShare, StationsOffNetworkWarning
from .costs import Costs, Economics, annualised_cost, capital_recovery_factor
from .microtransit import Microtransit
from .scooters import Scooters
from .service import AccessLegs, bike_share_seconds, on_demand_seconds
from .shuttle import Shuttle, shuttle_gtfs
from .walking_links import WalkingLinks

#: YAML ``type`` -> class.
INTERVENTION_TYPES = {
    cls.kind: cls for cls in (BikeShare, Shuttle, Microtransit, Scooters, WalkingLinks)
}

__all__ = [
    "AccessLegs",
    "BikeShare",
    "Costs",
    "Economics",
    "INTERVENTION_TYPES",
    "Intervention",
    "LEAD_TIMES",
    "Microtransit",
    "Scooters",
    "Shuttle",
    "StationsOffNetworkWarning",
    "WalkingLinks",
    "annualised_cost",
    "bike_share_seconds",
    "canonical_json",
    "capital_recovery_factor",
    "on_demand_seconds",
    "shuttle_gtfs",
]
