"""Parse GTFS text values, reporting bad ones by file, column and row."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import FeedError, show_value


def _isin(values: pd.Series, allowed: pd.Series | np.ndarray) -> np.ndarray:
    # Deduplicate first: pandas' arrow-string isin walks the allowed values in Python.
    return values.isin(pd.unique(np.asarray(allowed, dtype=object))).to_numpy()


def _sample(table: pd.DataFrame, mask: pd.Series | np.ndarray, columns: Sequence[str]) -> str:
    bad = table.loc[np.asarray(mask), [c for c in columns if c in table.columns]]
    if bad.empty:
        return ""
    first = bad.iloc[0].to_dict()
    more = f" (and {len(bad) - 1} more rows)" if len(bad) > 1 else ""
    return f"{show_value(first, 200)}{more}"


def _require_columns(table: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise FeedError(
            f"{where}: missing required column(s) {missing}; found {list(table.columns)}"
        )


def _to_number(table: pd.DataFrame, column: str, where: str, key: Sequence[str]) -> pd.Series:
    """Column as float64; blanks stay NaN, anything else unparseable is a FeedError."""
    values = pd.to_numeric(table[column], errors="coerce").astype("float64")
    bad = values.isna() & table[column].notna()
    if bad.any():
        raise FeedError(
            f"{where}: column {column!r} has a non-numeric value "
            f"{show_value(table.loc[bad, column].iloc[0])} in row "
            f"{_sample(table, bad, [*key, column])}"
        )
    return values


_CLOCK = re.compile(r"^(\d+):(\d{1,2}):(\d{1,2})$")


def _times_checked(
    table: pd.DataFrame, column: str, where: str, key: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, str]:
    """Parse GTFS ``H:MM:SS`` times, keeping track of the values that are not times.

    Hours may have one digit or exceed 24; minutes and seconds must be below 60.
    Returns float seconds (NaN for blanks and bad values), the mask of bad values
    and the message naming the first one ("" when there is none).
    """
    text = table[column].astype("string")
    parts = text.str.extract(_CLOCK.pattern)
    unparsed = (parts[0].isna() & text.notna()).to_numpy()
    h, m, s = (pd.to_numeric(parts[i]).to_numpy("float64", na_value=np.nan) for i in range(3))
    out_of_range = (m >= 60) | (s >= 60)
    message = ""
    if unparsed.any():
        value = text[unparsed].iloc[0]
        what = "negative" if str(value).lstrip().startswith("-") else "unparseable"
        message = (
            f"{where}: {what} time {show_value(value)} in column {column!r} (expected "
            f"HH:MM:SS, hours may exceed 24), row {_sample(table, unparsed, [*key, column])}"
        )
    elif out_of_range.any():
        message = (
            f"{where}: time {show_value(text[out_of_range].iloc[0])} in column {column!r} has "
            f"minutes or seconds >= 60, row {_sample(table, out_of_range, [*key, column])}"
        )
    bad = unparsed | out_of_range
    seconds = h * 3600 + m * 60 + s
    seconds[bad] = np.nan
    return seconds, bad, message


def _parse_times(table: pd.DataFrame, column: str, where: str, key: Sequence[str]) -> np.ndarray:
    """GTFS ``H:MM:SS`` times as float seconds after midnight, NaN for blanks.

    Raises
    ------
    FeedError
        A value that is not a time, naming the file, column and row.
    """
    seconds, bad, message = _times_checked(table, column, where, key)
    if bad.any():
        raise FeedError(message)
    return seconds


def parse_clock(value: str | float | int, parameter: str = "time") -> int:
    """Seconds after midnight from ``"HH:MM"``, ``"HH:MM:SS"`` or a number of seconds.

    Parameters
    ----------
    value : str or number
        ``"07:30"`` (hours may exceed 24, e.g. ``"25:10"``) or seconds after midnight.
    parameter : str
        Parameter name for the error message.

    Raises
    ------
    FeedError
        Unparseable or negative.
    """
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if not np.isfinite(value) or value < 0:
            raise FeedError(f"{parameter}: expected seconds >= 0, got {show_value(value)}")
        return int(round(value))
    match = re.fullmatch(r"\s*(\d+):(\d{2})(?::(\d{2}))?\s*", str(value))
    if not match or int(match[2]) >= 60 or int(match[3] or 0) >= 60:
        raise FeedError(
            f"{parameter}: expected 'HH:MM', 'HH:MM:SS' or seconds, got {show_value(value)}"
        )
    return int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3] or 0)


def _column(table: pd.DataFrame, column: str, fill: object = np.nan) -> pd.Series:
    return table[column] if column in table.columns else pd.Series(fill, index=table.index)


def _trip_bounds(trip_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the first and the last row of each trip (rows sorted by trip)."""
    if len(trip_id) == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    change = trip_id[1:] != trip_id[:-1]
    first = np.concatenate([[True], change])
    last = np.concatenate([change, [True]])
    return first, last
