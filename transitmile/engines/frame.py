"""The result frame both engines return: r5py's ``TravelTimeMatrix`` columns.

``from_id, to_id`` then ``travel_time`` when only the median is asked, else one
``travel_time_p{p}`` column per percentile (:func:`travel_time_columns`, the one place
that names them); the embedded engine may add the trip breakdown columns
(:data:`BREAKDOWN_COLUMNS`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["BREAKDOWN_COLUMNS", "travel_time_columns", "result_frame"]

#: Frame column for each part of the median trip reported by the embedded engine.
BREAKDOWN_COLUMNS = {
    "access": "access_time",
    "waiting": "wait_time",
    "in_vehicle": "in_vehicle_time",
    "transfer": "transfer_time",
    "egress": "egress_time",
}


def travel_time_columns(percentiles: Sequence[int]) -> list[str]:
    """Names of the travel time columns, as r5py names them.

    Parameters
    ----------
    percentiles : sequence of int
        The request's percentiles.

    Returns
    -------
    list of str
        ``["travel_time"]`` when only the median is asked, else
        ``["travel_time_p25", ...]`` in the order given.
    """
    if [int(p) for p in percentiles] == [50]:
        return ["travel_time"]
    return [f"travel_time_p{int(p):d}" for p in percentiles]


def result_frame(
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    minutes: np.ndarray,
    percentiles: Sequence[int],
    parts: dict[str, np.ndarray] | None,
) -> pd.DataFrame:
    """Build the long frame of a travel time matrix from dense minutes.

    Parameters
    ----------
    origins, destinations : DataFrame
        Layers with an ``id`` column (unique destination ids); the frame keeps their
        id dtypes.
    minutes : numpy.ndarray
        float ``[n_origins, n_destinations, n_percentiles]``, NaN unreachable.
    percentiles : sequence of int
        The percentiles of the last axis.
    parts : dict of str to numpy.ndarray, or None
        Breakdown minutes ``[n_origins, n_destinations]`` by part (keys of
        :data:`BREAKDOWN_COLUMNS`).

    Returns
    -------
    pandas.DataFrame
        ``from_id, to_id`` (origin-major), the travel time columns, then the
        breakdown columns; an origin is 0 minutes from itself, as in r5py.
    """
    n_o, n_d = len(origins), len(destinations)
    origin_ids, destination_ids = origins["id"].array, destinations["id"].array
    # Take from the id arrays rather than build 2 x n_o x n_d ids anew: converting
    # 1.5 M Python strings to the id dtype took ~0.15 s on POA, 15% of a one-minute run.
    data = {
        "from_id": pd.Series(
            origin_ids.take(np.repeat(np.arange(n_o), n_d)), dtype=origin_ids.dtype
        ),
        "to_id": pd.Series(
            destination_ids.take(np.tile(np.arange(n_d), n_o)), dtype=destination_ids.dtype
        ),
    }
    # Pairs of a point with itself: destination ids are unique (check_points).
    itself = pd.Index(destination_ids).get_indexer(origin_ids)
    same = (np.arange(n_o) * n_d + itself)[itself >= 0]
    # Every column below is a fresh array of this function's own (the caller's minutes
    # and parts are copied once, never written), so the frame takes them as they are:
    # DataFrame's default copy of a dict's arrays held each float column twice at the
    # peak (12 MB per column on POA's 1,227 x 1,227; 3.2 GB at 20,000 x 20,000).
    for k, name in enumerate(travel_time_columns(percentiles)):
        column = minutes[:, :, k].reshape(-1).astype("float64")  # a copy
        column[same] = 0.0  # as r5py: an origin is 0 minutes from itself
        data[name] = column
    if parts is not None:
        for part, column in BREAKDOWN_COLUMNS.items():
            data[column] = np.array(parts[part], dtype="float64").reshape(-1)  # a copy
    return pd.DataFrame(data, copy=False)
