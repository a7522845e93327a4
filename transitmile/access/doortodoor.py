"""Door to door: how much of a typical transit trip is the first and last mile.

From the router's split of each median trip (``travel_time_matrix(...,
breakdown=True)``: access, waiting, in-vehicle, transfer and egress minutes), the
first/last-mile share of a trip is ``(access + egress) / (all parts)``. Per origin,
the shares of its trips are averaged with the opportunities at each destination as
weights, so a trip to a place with many jobs counts for more: the share of the
trip a typical worker makes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import AccessError, show_value
from .points import analysis_attrs, check_columns

__all__ = ["first_last_mile_share", "BREAKDOWN_MINUTES"]

#: The breakdown columns of ``travel_time_matrix(..., breakdown=True)``.
BREAKDOWN_MINUTES = ("access_time", "wait_time", "in_vehicle_time", "transfer_time", "egress_time")


def first_last_mile_share(
    travel_times: pd.DataFrame, destinations: pd.DataFrame, opportunities: str = "jobs"
) -> pd.DataFrame:
    """Compute the first/last-mile share of each origin's typical transit trip.

    Parameters
    ----------
    travel_times : DataFrame
        ``travel_time_matrix(..., breakdown=True)``'s frame: ``from_id``, ``to_id``
        and the breakdown minutes (NaN where the median trip does not use transit).
    destinations : DataFrame or GeoDataFrame
        Unique ``id`` and the opportunity column that weighs each destination.
    opportunities : str
        Opportunity column of ``destinations``.

    Returns
    -------
    DataFrame
        One row per origin (``id``): ``access_min``, ``egress_min``, ``trip_min``
        (opportunity-weighted mean minutes of the median transit trips),
        ``first_last_mile_share`` (opportunity-weighted mean of ``(access + egress) /
        trip``) and ``opportunities_by_transit`` (the weight: opportunities at
        destinations reached by a transit trip). NaN where an origin reaches no
        opportunity by transit. Trips from a point to itself do not count.

    Raises
    ------
    AccessError
        A matrix without the breakdown, destinations without ``id`` or the column.
    """
    needed = ["from_id", "to_id", *BREAKDOWN_MINUTES]
    if not isinstance(travel_times, pd.DataFrame) or any(
        c not in travel_times.columns for c in needed
    ):
        found = list(travel_times.columns) if isinstance(travel_times, pd.DataFrame) else []
        raise AccessError(
            "travel_times must come from travel_time_matrix(..., breakdown=True), with "
            f"columns {needed}; got {show_value(found)}"
        )
    if not isinstance(destinations, pd.DataFrame) or "id" not in destinations.columns:
        raise AccessError("destinations must be a (Geo)DataFrame with an 'id' column")
    destinations = check_columns(
        destinations, [opportunities], "destinations", what="opportunity column"
    )
    weights = pd.Series(destinations[opportunities].to_numpy(dtype=float), index=destinations["id"])
    parts = travel_times[list(BREAKDOWN_MINUTES)].to_numpy(dtype=float)
    trip = parts.sum(axis=1)
    weight = weights.reindex(travel_times["to_id"]).to_numpy()
    used = (
        np.isfinite(trip)
        & (trip > 0)
        & np.isfinite(weight)
        & (travel_times["from_id"].to_numpy() != travel_times["to_id"].to_numpy())
    )
    w = np.where(used, weight, 0.0)
    access, egress = parts[:, 0], parts[:, 4]
    share = np.divide(access + egress, trip, out=np.zeros_like(trip), where=used)
    sums = (
        pd.DataFrame(
            {
                "id": travel_times["from_id"].to_numpy(),
                "w": w,
                "access": np.where(used, access * w, 0.0),
                "egress": np.where(used, egress * w, 0.0),
                "trip": np.where(used, trip * w, 0.0),
                "share": share * w,
            }
        )
        .groupby("id", sort=False)
        .sum()
    )
    total = sums["w"].where(sums["w"] > 0)
    result = pd.DataFrame(
        {
            "id": sums.index.to_numpy(),
            "access_min": (sums["access"] / total).to_numpy(),
            "egress_min": (sums["egress"] / total).to_numpy(),
            "trip_min": (sums["trip"] / total).to_numpy(),
            "first_last_mile_share": (sums["share"] / total).to_numpy(),
            "opportunities_by_transit": sums["w"].to_numpy(),
        }
    )
    result.attrs = analysis_attrs(
        "first_last_mile_share",
        None,
        opportunities=opportunities,
        travel_times=dict(travel_times.attrs),
    )
    return result
