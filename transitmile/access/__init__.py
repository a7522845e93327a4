"""Access analysis in planners' words: first and last mile, walksheds, gaps.

- :mod:`.gaps`: :func:`first_mile`, :func:`last_mile`, :func:`gap_summary`;
- :mod:`.walksheds`: :func:`walksheds`;
- :mod:`.points`: checks of origins and destinations, shared by all of them.
"""

from __future__ import annotations

from .gaps import first_mile, gap_summary, last_mile
from .points import AccessWarning
from .walksheds import walksheds

__all__ = ["first_mile", "last_mile", "walksheds", "gap_summary", "AccessWarning"]
