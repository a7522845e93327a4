"""OSM access rules: which ways a pedestrian or a cyclist may use, and in which direction.

The rules follow OSM's worldwide access table (wiki "OSM tags for routing/Access
restrictions") and R5's ``TraversalPermissionLabeler``; :func:`way_access` is the one
entry point, used by :func:`transitmile.streets.build_street_graph`.
"""

from __future__ import annotations

from ..conventions import BICYCLE, STREET_MODES, WALK, street_mode
from ..errors import NetworkError

__all__ = ["MODES", "way_access"]

#: Street graph modes (r5py's spelling; ``"walk"`` and ``"bike"`` are accepted too).
MODES = STREET_MODES

# highway=* values that can carry people at all. Anything else (proposed, construction,
# bus_guideway, raceway, rest_area ...) is not part of a walk or bike network.
_ROUTABLE_HIGHWAY = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "road",
        "service",
        "track",
        "pedestrian",
        "footway",
        "steps",
        "path",
        "cycleway",
        "bridleway",
        "corridor",
        "platform",
    }
)

# Default access when no mode tag says otherwise, after OSM's worldwide access table
# (wiki "OSM tags for routing/Access restrictions") and R5's TraversalPermissionLabeler:
# pedestrians everywhere except motorways, bicycles on roads, paths and cycleways but not
# on footways, pedestrian streets, steps, bridleways, corridors or platforms.
_DEFAULT_ALLOWED = {
    WALK: _ROUTABLE_HIGHWAY - {"motorway", "motorway_link"},
    BICYCLE: _ROUTABLE_HIGHWAY
    - {
        "motorway",
        "motorway_link",
        "pedestrian",
        "footway",
        "steps",
        "bridleway",
        "corridor",
        "platform",
    },
}

# Mode-specific access keys, most specific first; the first one present decides.
_MODE_KEYS = {WALK: ("foot",), BICYCLE: ("bicycle", "vehicle")}

# Values that close a way to a mode (also as one of several values: "private;delivery").
# bicycle=use_sidepath means cyclists must use the parallel cycleway instead.
_CLOSED = frozenset({"no", "private", "use_sidepath"})

_YES = frozenset({"yes", "true", "1"})
_NO = frozenset({"no", "false", "0"})
_REVERSE = frozenset({"-1", "reverse"})
# Old-style tags for contraflow cycling on one-way streets.
_CONTRAFLOW = frozenset({"opposite", "opposite_lane", "opposite_track"})


def _values(value: str | None) -> list[str]:
    """Split the values of a tag at ``;``."""
    return [] if value is None else [part.strip() for part in value.split(";")]


def way_access(tags, mode: str) -> tuple[bool, bool]:
    """Whether a way may be used by ``mode``, forwards and backwards.

    Parameters
    ----------
    tags : mapping
        The way's OSM tags (a dict or pyosmium ``TagList``).
    mode : {"WALK", "BICYCLE"}
        Street mode (``"walk"`` and ``"bike"`` are accepted too).

    Returns
    -------
    (forward, backward) : tuple of bool
        Travel allowed along the way's node order / against it. ``(False, False)``: the
        way is not part of the network.

    Notes
    -----
    - ``highway`` must be a street, path or footway value; ``area=yes`` (squares mapped
      as polygons) and ``motorroad=yes`` are excluded.
    - The most specific access tag present decides: ``foot`` for walking, ``bicycle``
      then ``vehicle`` for cycling; ``no``, ``private`` or ``use_sidepath`` close the
      way, any other value (``yes``, ``designated``, ``permissive`` ...) opens it even
      where the default forbids it (``highway=footway`` + ``bicycle=yes``). Without a
      mode tag, ``access=no|private`` closes the way, otherwise the highway default
      applies (pedestrians everywhere but motorways; bicycles not on footways,
      pedestrian streets, steps, bridleways, corridors or platforms).
    - Walking ignores one-way streets. Cycling: ``oneway:bicycle`` wins (``no`` makes a
      one-way street two-way for bikes), then contraflow ``cycleway=opposite*``, then
      ``oneway=yes|-1|no``, then ``junction=roundabout|circular`` and motorways imply
      one-way. ``oneway=reversible|alternating`` ways are left out for bikes, as their
      direction changes through the day.
    """
    mode = street_mode(mode, NetworkError)
    highway = tags.get("highway")
    if highway not in _ROUTABLE_HIGHWAY or tags.get("area") == "yes":
        return False, False
    if tags.get("motorroad") == "yes":
        return False, False
    if not _is_open(tags, mode, highway):
        return False, False
    if mode == WALK:
        return True, True
    return _bike_directions(tags, highway)


def _is_open(tags, mode: str, highway: str) -> bool:
    for key in _MODE_KEYS[mode]:
        values = _values(tags.get(key))
        if values:
            return not any(v in _CLOSED for v in values)
    if any(v in _CLOSED for v in _values(tags.get("access"))):
        return False
    return highway in _DEFAULT_ALLOWED[mode]


def _bike_directions(tags, highway: str) -> tuple[bool, bool]:
    oneway_bicycle = tags.get("oneway:bicycle")
    if oneway_bicycle in _NO:
        return True, True
    if oneway_bicycle in _YES:
        return True, False
    if oneway_bicycle in _REVERSE:
        return False, True
    if tags.get("cycleway") in _CONTRAFLOW:
        return True, True
    oneway = tags.get("oneway")
    if oneway in _YES:
        return True, False
    if oneway in _REVERSE:
        return False, True
    if oneway in ("reversible", "alternating"):
        return False, False
    if oneway in _NO:
        return True, True
    if tags.get("junction") in ("roundabout", "circular") or highway in (
        "motorway",
        "motorway_link",
    ):
        return True, False
    return True, True
