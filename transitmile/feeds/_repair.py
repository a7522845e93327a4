"""Repairs and drops shared by the per-file tables, each reported as a notice."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import show_value
from ._parse import _isin, _sample, _trip_bounds
from .notices import Notices, example_row


def drop_trips(
    rows: pd.DataFrame,
    bad: np.ndarray | pd.Series,
    notices: Notices,
    code: str,
    message: str,
    columns: Sequence[str],
    file: str = "stop_times.txt",
) -> pd.DataFrame:
    """Drop every row of each trip that has a ``bad`` row; one notice.

    Parameters
    ----------
    rows : DataFrame
        Rows of the service date with a ``trip_id`` column (e.g. stop_times).
    bad : boolean array
        Offending rows, aligned with ``rows``.
    notices : Notices
        Where the notice goes (raises instead when strict).
    code, message : str
        Notice code and full message.
    columns : list of str
        Columns shown in the example row.
    file : str
        The file ``rows`` come from.

    Returns
    -------
    DataFrame
        ``rows`` without the broken trips (original index kept).
    """
    bad = np.asarray(bad)
    trips = pd.unique(rows["trip_id"].to_numpy()[bad])
    if len(trips):  # every bad row names a trip: no trip, nothing to drop
        notices.add_rows(code, file, rows, bad, "dropped", message, columns, len(trips))
        rows = rows[~_isin(rows["trip_id"], trips)]
    return rows


def dedupe(
    table: pd.DataFrame, key: str, notices: Notices, file: str, where: str
) -> tuple[pd.DataFrame, np.ndarray]:
    """Drop exact duplicate rows (repaired) and find ids repeated with different rows.

    Parameters
    ----------
    table : DataFrame
        A raw GTFS table (strings).
    key : str
        Its primary key column, e.g. ``"stop_id"``.
    notices : Notices
        Receives ``duplicate_key`` notices.
    file, where : str
        File name, and ``"<feed>/<file>"`` for messages.

    Returns
    -------
    (DataFrame, ndarray)
        The table without exact duplicates, and the ids still repeated (with
        different values): ambiguous, so the caller drops them and reports it.
    """
    repeated = table[key].duplicated(keep=False)
    if not repeated.any():
        return table, np.array([], dtype=object)
    exact = table.duplicated(keep="first") & repeated
    if exact.any():
        notices.add_rows(
            "duplicate_key",
            file,
            table,
            exact,
            "repaired",
            f"{where}: {int(exact.sum())} rows repeat another row exactly (kept once), "
            f"e.g. {_sample(table, exact, table.columns)}",
            table.columns,
        )
        table = table[~exact]
    conflicting = table[key].duplicated(keep=False)
    return table, pd.unique(table.loc[conflicting, key].to_numpy())


def drop_rows(
    rows: pd.DataFrame,
    bad: np.ndarray | pd.Series,
    notices: Notices,
    code: str,
    message: str,
    columns: Sequence[str],
    file: str,
) -> pd.DataFrame:
    """Drop the ``bad`` rows themselves (not their trips); one notice.

    Parameters
    ----------
    rows, bad, notices, code, message, columns, file
        As :func:`drop_trips`.

    Returns
    -------
    DataFrame
        ``rows`` without the bad ones (original index kept).
    """
    bad = np.asarray(bad)
    if not bad.any():
        return rows
    notices.add_rows(code, file, rows, bad, "dropped", message, columns)
    return rows[~bad]


def drop_rows_at_unusable_stops(
    st: pd.DataFrame,
    stops: pd.DataFrame,
    causes: pd.Series,
    notices: Notices,
    name: str,
) -> pd.DataFrame:
    """Drop stop_times rows whose stop is unknown or was left without a location.

    Parameters
    ----------
    st : DataFrame
        Parsed stop_times of the date.
    stops : DataFrame
        The usable stops (with coordinates).
    causes : Series
        Notice code per stop_id of stops.txt that was dropped or left unlocated.
    notices : Notices
        Receives one notice per cause (``foreign_key_violation`` for unknown stops).
    name : str
        Feed name.

    Returns
    -------
    DataFrame
        The rows at usable stops (original index kept).
    """
    usable = _isin(st["stop_id"], stops["stop_id"])
    if usable.all():
        return st
    where = f"{name}/stop_times.txt"
    columns = ["trip_id", "stop_sequence", "stop_id"]
    cause = st["stop_id"].map(causes).to_numpy(dtype=object)
    unknown = ~usable & pd.isna(cause)
    if unknown.any():
        notices.add_rows(
            "foreign_key_violation",
            "stop_times.txt",
            st,
            unknown,
            "dropped",
            f"{where}: stop_id {show_value(st.loc[unknown, 'stop_id'].iloc[0])} "
            f"is not in stops.txt ({unknown.sum()} such stop_times rows)",
            columns,
        )
    for code in pd.unique(cause[~usable & ~unknown]):
        here = ~usable & (cause == code)
        notices.add_rows(
            code,
            "stop_times.txt",
            st,
            here,
            "dropped",
            f"{where}: {int(here.sum())} rows at stops dropped or left without a location "
            f"({code}, see stops.txt), e.g. {_sample(st, here, columns)}",
            columns,
        )
    return st[usable]


def drop_unusable_trips(
    st: pd.DataFrame, trips_before: np.ndarray, notices: Notices, name: str
) -> pd.DataFrame:
    """Drop trips left with fewer than two stop_times rows (``unusable_trip``).

    Parameters
    ----------
    st : DataFrame
        stop_times of the date, sorted by trip and stop_sequence.
    trips_before : array
        Trip ids that had rows before rows were dropped: those with none left are
        counted as dropped too.
    notices : Notices
        Receives the notice.
    name : str
        Feed name.

    Returns
    -------
    DataFrame
        The rows of trips with two stops or more.
    """
    first, last = _trip_bounds(st["trip_id"].to_numpy())
    alone = first & last
    vanished = trips_before[~_isin(pd.Series(trips_before), st["trip_id"])]
    if not alone.any() and not len(vanished):
        return st
    trips = np.union1d(st["trip_id"].to_numpy()[alone].astype(str), vanished.astype(str))
    columns = ["trip_id", "stop_sequence", "stop_id"]
    example = example_row(st, alone, columns) or show_value({"trip_id": vanished[0]})
    notices.add(
        "unusable_trip",
        "stop_times.txt",
        int(alone.sum()),
        "dropped",
        f"{name}/stop_times.txt: {len(trips)} trips have fewer than two usable stops, e.g. "
        f"{example}",
        example,
        trips_dropped=len(trips),
    )
    return st[~_isin(st["trip_id"], trips)]
