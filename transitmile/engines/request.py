"""The routing request both engines understand, validated once.

Parameter names and defaults follow ``r5py.TravelTimeMatrix`` / ``r5py.RegionalTask``
so that a planner can switch engines with one argument.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import RoutingError, show_value

__all__ = ["TravelTimeRequest", "make_request", "MODES", "STREET_MODES"]

#: Modes a request may name (r5py's TransportMode names that transitmile routes).
STREET_MODES = ("WALK", "BICYCLE")
TRANSIT_MODES = ("TRANSIT", "BUS", "RAIL", "SUBWAY", "TRAM", "FERRY")
MODES = STREET_MODES + TRANSIT_MODES


@dataclass(frozen=True)
class TravelTimeRequest:
    """A validated travel time request (times in seconds, speeds in km/h).

    Attributes follow r5py's names; durations are whole seconds.
    """

    departure: dt.datetime
    departure_time_window_s: int = 600
    percentiles: tuple[int, ...] = (50,)
    transport_modes: tuple[str, ...] = ("TRANSIT", "WALK")
    access_modes: tuple[str, ...] = ("WALK",)
    egress_modes: tuple[str, ...] = ("WALK",)
    max_time_s: int = 7200
    max_time_walking_s: int = 7200
    max_time_cycling_s: int = 7200
    speed_walking: float = 3.6
    speed_cycling: float = 12.0
    max_public_transport_rides: int = 8
    min_transfer_time_s: int = 60
    options: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def uses_transit(self) -> bool:
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
        return max(1, self.departure_time_window_s // 60)

    def as_dict(self) -> dict[str, Any]:
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
    departure_time_window: dt.timedelta = dt.timedelta(minutes=10),
    percentiles: tuple[int, ...] | list[int] = (50,),
    transport_modes: tuple[str, ...] | list[str] = ("TRANSIT", "WALK"),
    access_modes: tuple[str, ...] | list[str] = ("WALK",),
    egress_modes: tuple[str, ...] | list[str] | None = None,
    max_time: dt.timedelta = dt.timedelta(hours=2),
    max_time_walking: dt.timedelta | None = None,
    max_time_cycling: dt.timedelta | None = None,
    speed_walking: float = 3.6,
    speed_cycling: float = 12.0,
    max_public_transport_rides: int = 8,
    min_transfer_time: dt.timedelta = dt.timedelta(minutes=1),
    **options: Any,
) -> TravelTimeRequest:
    """Validate r5py-style parameters into a :class:`TravelTimeRequest`.

    Follows r5py: ``egress_modes`` defaults to ``access_modes``; the walking and
    cycling limits default to ``max_time``, and ``max_time`` grows to the largest
    of them.

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
