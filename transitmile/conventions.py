"""r5py's conventions, written once: mode names and the default parameters of a request.

Every layer spells a street mode the way r5py's ``TransportMode`` does (``"WALK"``,
``"BICYCLE"``); :func:`street_mode` is the one place that also accepts the planners'
short words ``"walk"`` and ``"bike"``. The defaults of :func:`transitmile.travel_time_matrix`,
:func:`transitmile.engines.request.make_request`, the CLI and the street functions are
r5py's (``r5py.TravelTimeMatrix``), read from :data:`R5PY_DEFAULTS`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .errors import TransitmileError, show_value

__all__ = [
    "WALK",
    "BICYCLE",
    "STREET_MODES",
    "TRANSIT_MODES",
    "MODES",
    "R5pyDefaults",
    "R5PY_DEFAULTS",
    "street_mode",
    "mode_word",
]

#: Street modes, as r5py's ``TransportMode`` names them.
WALK = "WALK"
BICYCLE = "BICYCLE"
STREET_MODES = (WALK, BICYCLE)
#: Transit modes a request may name (r5py's names that transitmile routes).
TRANSIT_MODES = ("TRANSIT", "BUS", "RAIL", "SUBWAY", "TRAM", "FERRY")
#: Every mode a request may name.
MODES = STREET_MODES + TRANSIT_MODES

# The planners' short words, accepted wherever a street mode is named.
_ALIASES = {"walk": WALK, "bike": BICYCLE, "bicycle": BICYCLE, WALK: WALK, BICYCLE: BICYCLE}
_WORDS = {WALK: "walk", BICYCLE: "bike"}


@dataclass(frozen=True)
class R5pyDefaults:
    """The defaults of ``r5py.TravelTimeMatrix`` that transitmile follows.

    Attributes
    ----------
    departure_time_window : datetime.timedelta
        Departures tried every minute of this window (10 min).
    percentiles : tuple of int
        Percentiles of travel time over the window (the median).
    transport_modes : tuple of str
        Transit and walking.
    access_modes : tuple of str
        Walking to transit; egress modes default to the access modes.
    max_time : datetime.timedelta
        Longest trip reported (2 h); walking and cycling legs default to it.
    speed_walking, speed_cycling : float
        km/h (3.6 and 12).
    max_public_transport_rides : int
        Most vehicles boarded in one trip (8).
    min_transfer_time : datetime.timedelta
        Boarding slack before every boarding (R5's fixed 60 s).
    monte_carlo_draws : int
        Draws of headway-based service over the window (60).
    """

    departure_time_window: dt.timedelta = dt.timedelta(minutes=10)
    percentiles: tuple[int, ...] = (50,)
    transport_modes: tuple[str, ...] = ("TRANSIT", WALK)
    access_modes: tuple[str, ...] = (WALK,)
    max_time: dt.timedelta = dt.timedelta(hours=2)
    speed_walking: float = 3.6
    speed_cycling: float = 12.0
    max_public_transport_rides: int = 8
    min_transfer_time: dt.timedelta = dt.timedelta(minutes=1)
    monte_carlo_draws: int = 60

    def speed_kmh(self, mode: str) -> float:
        """Default speed of a street mode, km/h.

        Parameters
        ----------
        mode : str
            ``"WALK"`` or ``"BICYCLE"`` (or ``"walk"`` / ``"bike"``).

        Returns
        -------
        float
            ``speed_walking`` or ``speed_cycling``.
        """
        return self.speed_walking if street_mode(mode) == WALK else self.speed_cycling


#: The one copy of r5py's defaults.
R5PY_DEFAULTS = R5pyDefaults()


def street_mode(mode: object, error: type[TransitmileError] = TransitmileError) -> str:
    """Spell a street mode as r5py does.

    Parameters
    ----------
    mode : str
        ``"WALK"`` / ``"BICYCLE"``, or the short words ``"walk"`` / ``"bike"``.
    error : type of TransitmileError
        Raised for anything else (the caller's kind of input).

    Returns
    -------
    str
        ``"WALK"`` or ``"BICYCLE"``.

    Raises
    ------
    TransitmileError
        ``error``, naming the mode given.
    """
    try:
        return _ALIASES[mode]  # type: ignore[index]
    except (KeyError, TypeError):
        raise error(
            f"street mode must be one of {list(STREET_MODES)} (or 'walk', 'bike'), "
            f"got {show_value(mode)}"
        ) from None


def mode_word(mode: str) -> str:
    """Name a street mode in the planners' word for messages (``"walk"``, ``"bike"``).

    Parameters
    ----------
    mode : str
        A street mode in any accepted spelling.

    Returns
    -------
    str
        ``"walk"`` or ``"bike"``.
    """
    return _WORDS[street_mode(mode)]
