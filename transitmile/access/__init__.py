"""Access analysis in planners' words: first and last mile, walksheds, gaps.

- :mod:`.gaps`: :func:`first_mile`, :func:`last_mile`, :func:`gap_summary`;
- :mod:`.walksheds`: :func:`walksheds`;
- :mod:`.accessibility`: :func:`accessibility` (cumulative, interval, gravity,
  2SFCA) from a travel time matrix or straight from a network (:mod:`.direct`);
- :mod:`.doortodoor`: :func:`first_last_mile_share` from the router's breakdown;
- :mod:`.inequality`: :func:`inequality` (Palma, Gini, concentration, Theil, FGT);
- :mod:`.points`: checks of origins and destinations, shared by all of them.
"""

from __future__ import annotations

from .accessibility import accessibility
from .doortodoor import first_last_mile_share
from .gaps import first_mile, gap_summary, last_mile
from .inequality import inequality
from .points import AccessWarning
from .walksheds import walksheds

__all__ = [
    "first_mile",
    "last_mile",
    "walksheds",
    "gap_summary",
    "accessibility",
    "first_last_mile_share",
    "inequality",
    "AccessWarning",
]
