"""Validator notices: what is wrong in a feed and what loading it did about it.

Codes follow MobilityData's GTFS validator (https://gtfs-validator.mobilitydata.org)
where it has one, with its severity; the few transitmile-specific codes say what the
loader needs to know that the validator does not name (:data:`CODES`).

The policy (see :func:`~transitmile.feeds.load_feeds`): repair what is unambiguous,
drop the smallest broken unit (a row, a stop, a trip, a route), never more, and
refuse a feed only when nothing usable is left. ``strict=True`` refuses instead at the
first error-level notice, with the message the notice carries.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import FeedError, show_value

__all__ = ["CODES", "NOTICE_COLUMNS", "FeedNoticeWarning", "Notices", "empty_notices"]

#: code -> (severity, what it means). Codes marked (transitmile) have no validator name.
CODES: dict[str, tuple[str, str]] = {
    "duplicate_key": ("error", "two rows share a primary key (stop_id, trip_id, ...)"),
    "foreign_key_violation": ("error", "a row names an id that its target file lacks"),
    "missing_required_field": ("error", "a required value is blank"),
    "invalid_integer": ("error", "a value that must be a whole number is not"),
    "invalid_float": ("error", "a value that must be a number is not"),
    "invalid_time": ("error", "a time is not H:MM:SS with minutes and seconds < 60"),
    "number_out_of_range": ("error", "a number outside its allowed range"),
    "point_near_origin": ("error", "a stop within one degree of (0, 0)"),
    "stop_without_location": ("error", "a stop used by stop_times has no coordinates"),
    "missing_trip_edge": ("error", "a trip's first or last stop has no times"),
    "stop_time_with_arrival_before_previous_departure_time": (
        "error",
        "a trip arrives at a stop before it left the previous one",
    ),
    "stop_time_with_departure_before_arrival_time": (
        "error",
        "(transitmile) a trip leaves a stop before it arrives there",
    ),
    "decreasing_or_equal_stop_time_distance": (
        "error",
        "shape_dist_traveled decreases along a trip",
    ),
    "stop_outside_feed_area": (
        "warning",
        "(transitmile) a stop over 1,000 km and 10 median distances from the feed's centre",
    ),
    "unusable_trip": ("warning", "a trip with fewer than two stops"),
    "unused_trip": ("warning", "a trip of the date without stop_times rows"),
    "unused_route": ("warning", "a route without any trip in trips.txt"),
    "service_never_active": (
        "warning",
        "(transitmile) trips whose service_id runs on no date of the calendar",
    ),
}

#: Columns of ``Feed.notices``.
NOTICE_COLUMNS = [
    "feed",
    "code",
    "severity",
    "file",
    "count",
    "action",
    "trips_dropped",
    "example",
    "message",
]


class FeedNoticeWarning(UserWarning):
    """The one warning per load that summarises a feed's notices."""


def empty_notices() -> pd.DataFrame:
    """Make an empty notices table with the columns of :data:`NOTICE_COLUMNS`."""
    return pd.DataFrame(
        {
            c: pd.Series(dtype="int64" if c in ("count", "trips_dropped") else object)
            for c in NOTICE_COLUMNS
        }
    )


def example_row(table: pd.DataFrame, mask: np.ndarray | pd.Series, columns: Sequence[str]) -> str:
    """Show the first row where ``mask`` holds, as a short dict text, for a notice."""
    bad = table.loc[np.asarray(mask), [c for c in columns if c in table.columns]]
    return show_value(bad.iloc[0].to_dict(), 200) if len(bad) else ""


@dataclass
class Notices:
    """Notices of one feed as they are found; refuses at an error when ``strict``.

    Parameters
    ----------
    feed : str
        Feed name, recorded on every notice.
    strict : bool
        Raise :class:`~transitmile.errors.FeedError` with the notice's message at
        the first error-level notice instead of recording it.
    """

    feed: str
    strict: bool = False
    rows: list[dict] = field(default_factory=list)

    def add(
        self,
        code: str,
        file: str,
        count: int,
        action: str,
        message: str,
        example: str = "",
        trips_dropped: int = 0,
    ) -> None:
        """Record one notice (or raise it, when strict and error-level).

        Parameters
        ----------
        code : str
            A key of :data:`CODES`.
        file : str
            The GTFS file the rows are in, e.g. ``"stop_times.txt"``.
        count : int
            Rows of ``file`` concerned.
        action : str
            ``"repaired"``, ``"dropped"`` or ``"kept"``.
        message : str
            Full sentence naming the file, column and an offending row.
        example : str
            The first offending row.
        trips_dropped : int
            Trips of the service date removed from the timetable because of it.
        """
        severity = CODES[code][0]
        if self.strict and severity == "error":
            raise FeedError(message)
        self.rows.append(
            {
                "feed": self.feed,
                "code": code,
                "severity": severity,
                "file": file,
                "count": int(count),
                "action": action,
                "trips_dropped": int(trips_dropped),
                "example": example,
                "message": message,
            }
        )

    def add_rows(
        self,
        code: str,
        file: str,
        rows: pd.DataFrame,
        mask,
        action: str,
        message: str,
        columns,
        trips_dropped: int = 0,
    ) -> None:
        """Record one notice about the rows of a table where ``mask`` holds.

        Parameters
        ----------
        code, file, action, message, trips_dropped
            As :meth:`add`.
        rows : DataFrame
            The table the rows are in.
        mask : boolean array or Series
            The offending rows: their number is the count, the first is the example.
        columns : sequence of str
            Columns shown in the example.
        """
        example = example_row(rows, mask, columns)
        self.add(code, file, int(mask.sum()), action, message, example, trips_dropped)

    def frame(self) -> pd.DataFrame:
        """Return the notices as a DataFrame with :data:`NOTICE_COLUMNS`."""
        if not self.rows:
            return empty_notices()
        return pd.DataFrame(self.rows, columns=NOTICE_COLUMNS)


def notice_counts(notices: pd.DataFrame) -> dict[str, int]:
    """Count for provenance: notices per severity and action, and trips dropped.

    Parameters
    ----------
    notices : DataFrame
        A notices table (:data:`NOTICE_COLUMNS`).

    Returns
    -------
    dict
        ``errors, warnings, infos`` (notices), ``repaired, dropped, kept`` (notices
        by action) and ``trips_dropped`` (trips of the date).
    """
    severity = notices["severity"].value_counts()
    action = notices["action"].value_counts()
    counts = {f"{s}s": int(severity.get(s, 0)) for s in ("error", "warning", "info")}
    counts |= {a: int(action.get(a, 0)) for a in ("repaired", "dropped", "kept")}
    counts["trips_dropped"] = int(notices["trips_dropped"].sum())
    return counts


def summary_text(notices: pd.DataFrame, trips: int, lost_routes: Sequence[str]) -> str:
    """One sentence summarising ``notices`` for the load warning.

    Parameters
    ----------
    notices : DataFrame
        Notices of every feed loaded.
    trips : int
        Trips of the service date before anything was dropped.
    lost_routes : list of str
        Routes that had trips on the date and lost all of them.

    Returns
    -------
    str
        E.g. ``"GTFS notices: 3 errors (2 repaired, 1 dropped), 0 warnings; 6 trips
        dropped (0.2% of trips); see feed.notices"``.
    """
    errors = notices[notices["severity"] == "error"]
    by_action = errors["action"].value_counts()
    actions = ", ".join(f"{int(n)} {a}" for a, n in by_action.items())
    warnings_n = int((notices["severity"] == "warning").sum())
    dropped = int(notices["trips_dropped"].sum())
    share = dropped / trips if trips else 0.0
    text = (
        f"GTFS notices: {len(errors)} errors{f' ({actions})' if actions else ''}, "
        f"{warnings_n} warnings; {dropped} trips dropped ({share:.1%} of trips)"
    )
    if lost_routes:
        text += f"; routes losing all their trips on the date: {show_value(list(lost_routes), 200)}"
    return text + "; see feed.notices"


def warn_summary(notices: pd.DataFrame, trips: int, lost_routes: Sequence[str]) -> None:
    """Issue the one :class:`FeedNoticeWarning` of a load, if there are notices.

    Parameters
    ----------
    notices, trips, lost_routes
        As :func:`summary_text`.
    """
    if len(notices):
        warnings.warn(summary_text(notices, trips, lost_routes), FeedNoticeWarning, stacklevel=3)
