"""One exception family for every mistake a user can make.

Each message names the file, column or parameter at fault and shows an
offending value, so that a planner can fix the input without reading a
traceback from deep inside pandas.
"""

from __future__ import annotations

__all__ = [
    "TransitmileError",
    "DataError",
    "FeedError",
    "NetworkError",
    "RoutingError",
    "PointsError",
    "EngineUnavailableError",
    "StudyError",
    "AccessError",
]


class TransitmileError(ValueError):
    """Base class of every error transitmile raises for bad input or set-up."""


class DataError(TransitmileError):
    """A data set file is missing, unreadable or fails its checksum."""


class FeedError(TransitmileError):
    """A GTFS feed is malformed or has no service on the requested date."""


class NetworkError(TransitmileError):
    """A street network or transport network cannot be built or used."""


class RoutingError(TransitmileError):
    """Invalid routing parameters or origins/destinations."""


class PointsError(RoutingError, NetworkError):
    """A layer of points (origins, destinations, stops) is malformed: no ``id``, no CRS, not Points.

    Raised by :func:`transitmile.streets.check_points`, the one check of a points layer,
    whether the layer reaches it through :func:`transitmile.travel_time_matrix` or
    :func:`transitmile.streets.snap_points`. It is a :class:`RoutingError` and a
    :class:`NetworkError` alike, so callers that caught either keep working.
    """


class EngineUnavailableError(TransitmileError):
    """The requested routing engine cannot run here (e.g. no Java 21 or no R5 jar)."""


class StudyError(TransitmileError):
    """A study YAML file or a batch run is misconfigured.

    Raised by ``transitmile.study`` (the study YAML's top-level keys, batch runs) and by
    ``transitmile.scenarios`` (its ``economics`` and ``scenarios`` sections), always
    naming the field and the value at fault (see docs/design.md).
    """


class AccessError(TransitmileError):
    """Invalid input to an access analysis: a missing or negative column, a bad measure."""


def show_value(value: object, limit: int = 80) -> str:
    """Short printable form of an offending value for an error message.

    Parameters
    ----------
    value : object
        The offending value.
    limit : int
        Longest text returned, characters.

    Returns
    -------
    str
        ``repr(value)``, cut with ``...`` beyond ``limit``.
    """
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
