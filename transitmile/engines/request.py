"""The routing request both engines understand, validated once.

Parameter names and defaults follow ``r5py.TravelTimeMatrix`` / ``r5py.RegionalTask``
(the defaults are :data:`transitmile.conventions.R5PY_DEFAULTS`) so that a planner can
switch engines with one argument. The engine names and the check that a departure is
on the network's service date are defined here, once, for both engines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from ..conventions import MODES, R5PY_DEFAULTS, STREET_MODES, TRANSIT_MODES, WALK
from ..errors import RoutingError, show_value

__all__ = [
    "TravelTimeRequest",
    "make_request",
    "MODES",
    "STREET_MODES",
    "ENGINES",
    "check_engine",
    "check_departure",
]

#: Engine names :func:`transitmile.travel_time_matrix` accepts.
ENGINES = ("auto", "embedded", "r5py")

_D = R5PY_DEFAULTS


@dataclass(frozen=True)
class TravelTimeRequest:
    """A validated travel time request (times in seconds, speeds in km/h).

    Attributes follow r5py's names; durations are whole seconds.
    """

    departure: dt.datetime
    departure_time_window_s: int = int(_D.departure_time_window.total_seconds())
    percentiles: tuple[int, ...] = _D.percentiles
    transport_modes: tuple[str, ...] = _D.transport_modes
    access_modes: tuple[str, ...] = _D.access_modes
    egress_modes: tuple[str, ...] = _D.access_modes
    max_time_s: int = int(_D.max_time.total_seconds())
    max_time_walking_s: int = int(_D.max_time.total_seconds())
    max_time_cycling_s: int = int(_D.max_time.total_seconds())
    speed_walking: float = _D.speed_walking
    speed_cycling: float = _D.speed_cycling
    max_public_transport_rides: int = _D.max_public_transport_rides
    min_transfer_time_s: int = int(_D.min_transfer_time.total_seconds())
    options: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def uses_transit(self) -> bool:
        """Whether transit is among the transport modes (else street modes only)."""
        return any(m in TRANSIT_MODES for m in self.transport_modes)

    @property
    def direct_modes(self) -> tuple[str, ...]:
        """Street modes usable door to door (those named in transport_modes)."""
        return tuple(m for m in self.transport_modes if m in STREET_MODES)

    @property
    def departure_seconds(self) -> int:
        """Departure as seconds after midnight of the departure date."""
        d = self.departure
        return d.hour * 3600 + d.minute * 60 + d.second

    @property
    def n_departure_minutes(self) -> int:
        """Departure minutes tried in the window (at least one)."""
        return max(1, self.departure_time_window_s // 60)

    def speed_kmh(self, mode: str) -> float:
        """Speed of ``mode`` (``"WALK"`` or ``"BICYCLE"``): ``speed_walking`` or ``speed_cycling``, km/h."""
        return self.speed_walking if mode == WALK else self.speed_cycling

    def leg_limit_s(self, mode: str) -> int:
        """Longest leg of ``mode``: ``max_time_walking_s`` or ``max_time_cycling_s``, capped by ``max_time_s``."""
        leg = self.max_time_walking_s if mode == WALK else self.max_time_cycling_s
        return min(self.max_time_s, leg)

    def as_dict(self) -> dict[str, Any]:
        """Plain values for run records (departure as ISO text).

        Returns
        -------
        dict
            Every field, JSON-serialisable.
        """
        out = asdict(self)
        out["departure"] = self.departure.isoformat()
        return out


def _minutes_text(value: Any) -> str:
    """Format a duration for a message in minutes, as planners give them (``-5 min``)."""
    if isinstance(value, dt.timedelta):
        return f"{value.total_seconds() / 60:g} min"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g} min"
    return show_value(value)


def _seconds(name: str, value: Any, *, allow_none: bool = False) -> int | None:
    """Whole seconds of a duration parameter (timedelta, or minutes as a number)."""
    if value is None and allow_none:
        return None
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value) * 60.0  # plain numbers are minutes, as planners write them
    else:
        raise RoutingError(
            f"parameter {name!r} must be a datetime.timedelta (or minutes as a number), "
            f"got {show_value(value)}"
        )
    if not 0 < seconds < float("inf"):
        raise RoutingError(
            f"parameter {name!r} must be a positive, finite duration, got {_minutes_text(value)}"
        )
    return int(round(seconds))


def _modes(name: str, value: Any) -> tuple[str, ...]:
    """Mode names in r5py's spelling, without repeats."""
    if isinstance(value, str):
        value = (value,)
    out = []
    for mode in value:
        text = str(getattr(mode, "name", mode)).upper()  # accepts r5py.TransportMode members
        if text not in MODES:
            raise RoutingError(
                f"parameter {name!r}: unknown mode {show_value(mode)}; choose from {list(MODES)}"
            )
        if text not in out:
            out.append(text)
    if not out:
        raise RoutingError(f"parameter {name!r} names no mode")
    return tuple(out)


def _speed(name: str, value: Any) -> float:
    """Check a speed parameter in km/h: it must lie in (0, 200]."""
    try:
        speed = float(value)
    except (TypeError, ValueError):
        raise RoutingError(
            f"parameter {name!r} must be a number in km/h, got {show_value(value)}"
        ) from None
    if not speed > 0 or speed > 200:
        raise RoutingError(
            f"parameter {name!r} must be a speed in km/h in (0, 200], got {show_value(value)}"
        )
    return speed


def make_request(
    *,
    departure: dt.datetime | None,
    departure_time_window: dt.timedelta | float = _D.departure_time_window,
    percentiles: tuple[int, ...] | list[int] = _D.percentiles,
    transport_modes: tuple[str, ...] | list[str] = _D.transport_modes,
    access_modes: tuple[str, ...] | list[str] = _D.access_modes,
    egress_modes: tuple[str, ...] | list[str] | None = None,
    max_time: dt.timedelta | float = _D.max_time,
    max_time_walking: dt.timedelta | float | None = None,
    max_time_cycling: dt.timedelta | float | None = None,
    speed_walking: float = _D.speed_walking,
    speed_cycling: float = _D.speed_cycling,
    max_public_transport_rides: int = _D.max_public_transport_rides,
    min_transfer_time: dt.timedelta | float = _D.min_transfer_time,
    **options: Any,
) -> TravelTimeRequest:
    """Validate r5py-style parameters into a :class:`TravelTimeRequest`.

    Follows r5py: ``egress_modes`` defaults to ``access_modes``; the walking and
    cycling limits default to ``max_time``, and ``max_time`` grows to the largest
    of them. The parameters are those of :func:`transitmile.travel_time_matrix`
    (see there); defaults are :data:`transitmile.conventions.R5PY_DEFAULTS`.

    Parameters
    ----------
    departure : datetime.datetime
        Start of the departure window.
    departure_time_window, percentiles, transport_modes, access_modes, egress_modes
        As r5py.
    max_time, max_time_walking, max_time_cycling : datetime.timedelta or float
        As r5py; plain numbers are minutes (as ``departure_time_window`` and
        ``min_transfer_time``).
    speed_walking, speed_cycling : float
        km/h.
    max_public_transport_rides : int
        Most vehicles boarded in one trip.
    min_transfer_time : datetime.timedelta
        Boarding slack before every boarding.
    **options
        Engine options (``breakdown=True``; r5py's ``max_bicycle_traffic_stress``).

    Returns
    -------
    TravelTimeRequest
        Validated, durations in whole seconds.

    Raises
    ------
    RoutingError
        Naming the parameter and showing its value.
    """
    if not isinstance(departure, dt.datetime):
        raise RoutingError(
            f"parameter 'departure' must be a datetime.datetime, got {show_value(departure)}"
        )
    if departure.utcoffset() is not None:
        raise RoutingError(
            f"parameter 'departure' {departure.isoformat()} has a UTC offset; give the feed's "
            "local time without one (convert with departure.astimezone(ZoneInfo(<the feed's "
            "agency_timezone>)).replace(tzinfo=None))"
        )
    window = _seconds("departure_time_window", departure_time_window)
    if window < 60:
        raise RoutingError(
            "parameter 'departure_time_window' must be at least one minute, got "
            f"{_minutes_text(departure_time_window)}"
        )
    if isinstance(percentiles, (int, float)):
        percentiles = (percentiles,)
    pcts = []
    for p in percentiles:
        if (
            isinstance(p, bool)
            or not isinstance(p, (int, float))
            or int(p) != p
            or not 1 <= p <= 99
        ):
            raise RoutingError(
                f"parameter 'percentiles': each must be a whole number in 1..99, got {show_value(p)}"
            )
        if int(p) not in pcts:
            pcts.append(int(p))
    if not pcts:
        raise RoutingError("parameter 'percentiles' is empty; give at least one, e.g. (50,)")
    transport = _modes("transport_modes", transport_modes)
    access = _modes("access_modes", access_modes)
    egress = _modes("egress_modes", access_modes if egress_modes is None else egress_modes)
    for name, modes in (("access_modes", access), ("egress_modes", egress)):
        bad = [m for m in modes if m not in STREET_MODES]
        if bad:
            raise RoutingError(
                f"parameter {name!r} takes street modes {list(STREET_MODES)}, got {bad}"
            )
    max_time_s = _seconds("max_time", max_time)
    walk_s = _seconds("max_time_walking", max_time_walking, allow_none=True)
    bike_s = _seconds("max_time_cycling", max_time_cycling, allow_none=True)
    max_time_s = max([max_time_s] + [s for s in (walk_s, bike_s) if s is not None])
    rides = max_public_transport_rides
    if isinstance(rides, bool) or not isinstance(rides, int) or rides < 1:
        raise RoutingError(
            f"parameter 'max_public_transport_rides' must be a whole number >= 1, got {show_value(rides)}"
        )
    slack = _seconds("min_transfer_time", min_transfer_time) if min_transfer_time else 0
    return TravelTimeRequest(
        departure=departure,
        departure_time_window_s=window,
        percentiles=tuple(pcts),
        transport_modes=transport,
        access_modes=access,
        egress_modes=egress,
        max_time_s=max_time_s,
        max_time_walking_s=walk_s if walk_s is not None else max_time_s,
        max_time_cycling_s=bike_s if bike_s is not None else max_time_s,
        speed_walking=_speed("speed_walking", speed_walking),
        speed_cycling=_speed("speed_cycling", speed_cycling),
        max_public_transport_rides=rides,
        min_transfer_time_s=slack,
        options=options,
    )


def check_engine(engine: object) -> str:
    """Validate an engine name.

    Parameters
    ----------
    engine : str
        One of :data:`ENGINES`.

    Returns
    -------
    str
        ``engine``.

    Raises
    ------
    RoutingError
        Naming the parameter and the accepted names.
    """
    if engine not in ENGINES:
        raise RoutingError(
            f"parameter 'engine' must be one of {list(ENGINES)}, got {show_value(engine)}"
        )
    return engine  # type: ignore[return-value]


def check_departure(request: TravelTimeRequest, service_date: dt.date | None) -> None:
    """Refuse a departure on another day than the network's service date.

    Parameters
    ----------
    request : TravelTimeRequest
        The request.
    service_date : datetime.date or None
        The network's service date (None: not known, nothing checked).

    Raises
    ------
    RoutingError
        Showing both dates and how to fix it.
    """
    if service_date is not None and request.departure.date() != service_date:
        day, service = request.departure.date().isoformat(), service_date.isoformat()
        raise RoutingError(
            f"parameter 'departure' {request.departure.isoformat()} is on {day}, but the "
            f"network's service date is {service}; build TransportNetwork(..., date={day!r}) "
            f"or depart on the service date {service}"
        )
