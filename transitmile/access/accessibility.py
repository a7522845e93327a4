"""Accessibility: how many opportunities people reach by transit, four ways.

The measures and their definitions are those planners already use in IPEA's
``accessibility`` R package (Pereira, Herszenhut et al.) and in Conveyal. For
origin ``i``, destination ``j`` with opportunities ``o_j`` and travel time
``t_ij`` in minutes (unreachable pairs count for nothing):

- **cumulative** opportunities within a cutoff ``c``: ``A_i = sum_j o_j [t_ij <= c]``;
- **interval**, the cumulative interval measure (Tomasiello, Herszenhut, Oliveira,
  Braga & Pereira 2023): the mean of the cumulative measure over every whole-minute
  cutoff from the smallest to the largest of ``cutoffs``, steadier than a single
  cutoff;
- **gravity** with a negative exponential decay: ``A_i = sum_j o_j exp(-decay t_ij)``
  over ``t_ij <= c``;
- **2sfca**, the two-step floating catchment area (Luo & Wang 2003), for services
  that people compete for (clinics): each destination's supply is shared among the
  people within ``c`` of it, ``R_j = o_j / sum_i P_i [t_ij <= c]``, and an origin's
  access is what it reaches of those shares, ``A_i = sum_j R_j [t_ij <= c]``. It
  conserves supply: ``sum_i P_i A_i`` is the supply of every destination someone
  reaches.

From a matrix (``travel_time_matrix``'s frame) or straight from a
``TransportNetwork``: then origins are routed one chunk at a time and each chunk
is reduced to the measure at once, so the full matrix is never held. 2SFCA routes
twice (its first step needs every origin's people at each destination). Both
paths run the same reductions on the same blocks of origins, so they agree
exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ..errors import AccessError, show_value
from .points import analysis_attrs, check_columns, check_layer, check_minutes

__all__ = [
    "accessibility",
    "ACCESSIBILITY_MEASURES",
    "cumulative_opportunities",
    "cumulative_interval",
    "gravity_access",
    "floating_catchment_demand",
    "floating_catchment_access",
    "measure_column",
]

#: Measures of :func:`accessibility`.
ACCESSIBILITY_MEASURES = ("cumulative", "interval", "gravity", "2sfca")

#: Origins per block: the embedded engine's chunk of origins.
CHUNK_ORIGINS = 256

#: Receives one block of origins: ``(start, stop, minutes[stop - start, n_destinations])``.
Consumer = Callable[[int, int, np.ndarray], None]

#: Feeds every block of origins, in order, to a consumer (one pass over the origins).
Runner = Callable[[Consumer], None]


def _minutes_label(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() else f"{value:g}"


def measure_column(opportunity: str, measure: str, cutoff) -> str:
    """Name the column of a measure at a cutoff, e.g. ``jobs_cumulative_45min``.

    Parameters
    ----------
    opportunity : str
        Opportunity column (``"jobs"``).
    measure : str
        One of :data:`ACCESSIBILITY_MEASURES`.
    cutoff : float or (float, float)
        Minutes; an interval ``(low, high)`` for ``"interval"``.

    Returns
    -------
    str
        ``<opportunity>_<measure>_<cutoff>min`` (``jobs_interval_30_60min``).
    """
    if isinstance(cutoff, tuple):
        return f"{opportunity}_{measure}_{'_'.join(_minutes_label(c) for c in cutoff)}min"
    return f"{opportunity}_{measure}_{_minutes_label(cutoff)}min"


# ------------------------------------------------------------------ measures on a block
def _sum_within(minutes: np.ndarray, cutoffs: np.ndarray, weight, axis: int = 1) -> np.ndarray:
    """Sum ``weight(k)`` over the pairs within cutoff ``k``, per origin (or per destination)."""
    out = np.empty((minutes.shape[1 - axis], len(cutoffs)))
    for k, cutoff in enumerate(cutoffs):
        out[:, k] = np.where(minutes <= cutoff, weight(k), 0.0).sum(axis=axis)
    return out


def cumulative_opportunities(
    minutes: np.ndarray, opportunities: np.ndarray, cutoffs: np.ndarray
) -> np.ndarray:
    """Compute the opportunities within each cutoff, per origin of a block.

    Parameters
    ----------
    minutes : ndarray of float64, ``(n_origins, n_destinations)``
        Travel times, NaN where unreachable.
    opportunities : ndarray of float64, ``(n_destinations,)``
    cutoffs : ndarray of float64
        Minutes; a destination counts when ``t <= cutoff``.

    Returns
    -------
    ndarray of float64, ``(n_origins, n_cutoffs)``
    """
    return _sum_within(minutes, cutoffs, lambda k: opportunities)


def cumulative_interval(
    minutes: np.ndarray, opportunities: np.ndarray, low: float, high: float
) -> np.ndarray:
    """Compute the mean of the cumulative measure over the whole-minute cutoffs in an interval.

    Parameters
    ----------
    minutes : ndarray of float64, ``(n_origins, n_destinations)``
        Travel times, NaN where unreachable.
    opportunities : ndarray of float64, ``(n_destinations,)``
    low, high : float
        Whole minutes: the cutoffs ``low, low + 1, ..., high``.

    Returns
    -------
    ndarray of float64, ``(n_origins, 1)``

    Notes
    -----
    A destination ``t`` minutes away counts at the cutoffs ``max(ceil(t), low)..high``,
    so the mean over the ``n`` cutoffs is ``sum_j o_j * count_j / n`` in one pass.
    """
    n = high - low + 1
    first = np.maximum(np.ceil(minutes), low)
    counts = np.where(np.isnan(minutes), 0.0, np.clip(high - first + 1, 0.0, n))
    return ((counts * opportunities).sum(axis=1) / n)[:, None]


def gravity_access(
    minutes: np.ndarray, opportunities: np.ndarray, cutoffs: np.ndarray, decay: float
) -> np.ndarray:
    """Compute opportunities weighted by ``exp(-decay * t)``, within each cutoff.

    Parameters
    ----------
    minutes : ndarray of float64, ``(n_origins, n_destinations)``
        Travel times, NaN where unreachable.
    opportunities : ndarray of float64, ``(n_destinations,)``
    cutoffs : ndarray of float64
        Minutes: destinations farther away weigh nothing.
    decay : float
        Per minute (0.1: an opportunity 10 minutes away weighs exp(-1) = 0.37).

    Returns
    -------
    ndarray of float64, ``(n_origins, n_cutoffs)``
    """
    weighted = opportunities * np.exp(-decay * np.nan_to_num(minutes, nan=0.0))
    return _sum_within(minutes, cutoffs, lambda k: weighted)


def floating_catchment_demand(
    minutes: np.ndarray, population: np.ndarray, cutoffs: np.ndarray
) -> np.ndarray:
    """Compute the people within each cutoff of each destination, from one block of origins.

    The first step of 2SFCA: add these up over all blocks.

    Parameters
    ----------
    minutes : ndarray of float64, ``(n_origins, n_destinations)``
    population : ndarray of float64, ``(n_origins,)``
    cutoffs : ndarray of float64

    Returns
    -------
    ndarray of float64, ``(n_destinations, n_cutoffs)``
    """
    return _sum_within(minutes, cutoffs, lambda k: population[:, None], axis=0)


def floating_catchment_access(
    minutes: np.ndarray, ratios: np.ndarray, cutoffs: np.ndarray
) -> np.ndarray:
    """Compute what each origin reaches of the destinations' supply-to-demand ratios.

    The second step of 2SFCA.

    Parameters
    ----------
    minutes : ndarray of float64, ``(n_origins, n_destinations)``
    ratios : ndarray of float64, ``(n_destinations, n_cutoffs)``
        Supply over the people within each cutoff (0 where nobody is).
    cutoffs : ndarray of float64

    Returns
    -------
    ndarray of float64, ``(n_origins, n_cutoffs)``
    """
    return _sum_within(minutes, cutoffs, lambda k: ratios[:, k])


# ------------------------------------------------------------------------- the plan
def _check_measure(measure, cutoffs, decay, percentile) -> np.ndarray:
    if measure not in ACCESSIBILITY_MEASURES:
        raise AccessError(
            f"parameter 'measure' must be one of {list(ACCESSIBILITY_MEASURES)}, "
            f"got {show_value(measure)}"
        )
    values = check_minutes(cutoffs, "cutoffs")
    if measure == "interval" and not (
        (values == np.round(values)).all() and values.max() > values.min()
    ):
        raise AccessError(
            "measure 'interval' needs whole-minute cutoffs spanning an interval "
            f"(e.g. (30, 60)), got {show_value(cutoffs)}"
        )
    if measure == "gravity" and (
        isinstance(decay, bool) or not isinstance(decay, (int, float)) or not decay > 0
    ):
        raise AccessError(f"parameter 'decay' must be a rate per minute > 0, got {decay!r}")
    if isinstance(percentile, bool) or not isinstance(percentile, (int, np.integer)):
        raise AccessError(f"parameter 'percentile' must be a whole number, got {percentile!r}")
    if not 1 <= percentile <= 99:
        raise AccessError(f"parameter 'percentile' must be in 1..99, got {percentile!r}")
    return values


def _evaluate(run: Runner, n_origins: int, measure, cutoffs, decay, supply, people):
    """Run the measure over the blocks of origins (twice for 2SFCA); ``(n_origins, k)``."""
    if measure == "interval":
        low, high = float(cutoffs.min()), float(cutoffs.max())
        out = np.zeros((n_origins, 1))

        def interval(start, stop, minutes):
            out[start:stop] = cumulative_interval(minutes, supply, low, high)

        run(interval)
        return out
    out = np.zeros((n_origins, len(cutoffs)))
    ratios = None
    if measure == "2sfca":
        demand = np.zeros((len(supply), len(cutoffs)))

        def catchment(start, stop, minutes):
            demand[:] += floating_catchment_demand(minutes, people[start:stop], cutoffs)

        run(catchment)
        ratios = np.divide(supply[:, None], demand, out=np.zeros_like(demand), where=demand > 0)

    def reduce(start, stop, minutes):
        if measure == "cumulative":
            out[start:stop] = cumulative_opportunities(minutes, supply, cutoffs)
        elif measure == "gravity":
            out[start:stop] = gravity_access(minutes, supply, cutoffs, decay)
        else:
            out[start:stop] = floating_catchment_access(minutes, ratios, cutoffs)

    run(reduce)
    return out


# ------------------------------------------------------------------- from a matrix
def _time_column(travel_times: pd.DataFrame, percentile: int) -> str:
    for name in [f"travel_time_p{percentile}"] + (["travel_time"] if percentile == 50 else []):
        if name in travel_times.columns:
            return name
    raise AccessError(
        f"travel_times has no travel time column for percentile {percentile} "
        f"('travel_time_p{percentile}'{' or travel_time' if percentile == 50 else ''}); "
        f"columns are {show_value(list(travel_times.columns))}"
    )


def _matrix_runner(
    travel_times: pd.DataFrame, origin_ids, destination_ids, percentile: int
) -> Runner:
    """Blocks of the dense origins x destinations minutes of a long matrix frame."""
    missing = [c for c in ("from_id", "to_id") if c not in travel_times.columns]
    if missing:
        raise AccessError(
            f"travel_times must be travel_time_matrix()'s frame; it has no {missing} column(s)"
        )
    column = _time_column(travel_times, percentile)
    rows = pd.Index(origin_ids).get_indexer(travel_times["from_id"])
    cols = pd.Index(destination_ids).get_indexer(travel_times["to_id"])
    keep = (rows >= 0) & (cols >= 0)
    if not keep.any():
        raise AccessError(
            "no pair of travel_times goes from the origins to the destinations; e.g. from_id "
            f"{show_value(travel_times['from_id'].iloc[0] if len(travel_times) else None)}, "
            f"to_id {show_value(travel_times['to_id'].iloc[0] if len(travel_times) else None)}"
        )
    dense = np.full((len(origin_ids), len(destination_ids)), np.nan)
    pair = rows[keep].astype(np.int64) * len(destination_ids) + cols[keep]
    if len(np.unique(pair)) < len(pair):
        raise AccessError("travel_times has duplicate (from_id, to_id) pairs")
    dense.flat[pair] = travel_times[column].to_numpy(dtype=np.float64)[keep]

    def run(consume: Consumer) -> None:
        for start in range(0, len(origin_ids), CHUNK_ORIGINS):
            stop = min(start + CHUNK_ORIGINS, len(origin_ids))
            consume(start, stop, dense[start:stop])

    return run


def _origin_people(origins, destinations, population, origin_ids) -> np.ndarray:
    """People at each origin for 2SFCA: from ``origins``, else from the same-id destinations."""
    source, name = (origins, "origins") if origins is not None else (destinations, "destinations")
    if population is None:
        return np.ones(len(origin_ids))
    if population not in source.columns:
        raise AccessError(
            f"measure '2sfca' needs the people at each origin: {name} has no population "
            f"column {population!r}; pass origins= with that column"
        )
    people = pd.Series(source[population].to_numpy(dtype=float), index=source["id"])
    found = people.reindex(origin_ids)
    if found.isna().any():
        raise AccessError(
            f"measure '2sfca' needs the people at each origin: from_id "
            f"{show_value(found.index[found.isna()][0])} of travel_times is not in {name}; "
            "pass origins= with a population column"
        )
    return found.to_numpy()


def accessibility(
    travel_times,
    destinations,
    opportunities: str = "jobs",
    measure: str = "cumulative",
    cutoffs: Sequence[float] = (30, 45, 60),
    decay: float = 0.1,
    population: str | None = "population",
    percentile: int = 50,
    *,
    origins=None,
    departure=None,
    engine: str = "auto",
    progress: bool | None = None,
    client=None,
    **routing,
) -> pd.DataFrame:
    """Compute an accessibility measure per origin, from a matrix or straight from a network.

    Parameters
    ----------
    travel_times : DataFrame or TransportNetwork
        :func:`~transitmile.travel_time_matrix`'s frame (``from_id``, ``to_id``,
        ``travel_time`` or ``travel_time_pNN``), or a network to route on.
    destinations : GeoDataFrame or DataFrame
        Unique ``id`` and the opportunity column.
    opportunities : str
        Opportunity column of ``destinations`` (jobs, clinics' capacity ...).
    measure : {"cumulative", "interval", "gravity", "2sfca"}
        See the module docstring.
    cutoffs : sequence of float
        Minutes; for ``"interval"`` the interval from the smallest to the largest.
    decay : float
        Negative exponential decay rate per minute, for ``"gravity"``.
    population : str or None
        People column of the origins, for ``"2sfca"`` (from ``origins=``, or from
        ``destinations`` when origins and destinations are the same layer).
    percentile : int
        Which travel time percentile to use (``travel_time`` is the 50th).
    origins : GeoDataFrame, optional
        Origins (unique ``id``). Required with a network; with a matrix, sets the
        rows and their order (default: the matrix's ``from_id`` in order).
    departure : datetime.datetime, optional
        With a network: start of the departure window.
    engine : {"auto", "embedded", "r5py"}
        With a network: as :func:`~transitmile.travel_time_matrix`.
    progress : bool, optional
        With a network: progress bar.
    client : dask.distributed.Client, optional
        With a network: route the chunks of origins on this Dask cluster (embedded
        engine; the tasks compute their origins' street legs too, except for a network
        with access services, whose street tables are computed here: see
        :func:`~transitmile.travel_time_matrix`); each chunk is reduced here as it
        arrives, in origin order, so the result is identical to the in-process one.
        Needs ``pip install 'transitmile[dask]'``.
    **routing
        With a network: any other parameter of
        :func:`~transitmile.travel_time_matrix` (``departure_time_window``,
        ``max_time``, ``speed_walking`` ...). ``percentiles`` is ``(percentile,)``.

    Returns
    -------
    DataFrame
        ``id`` and one column per cutoff named by :func:`measure_column`
        (``jobs_cumulative_30min``, ...; one ``jobs_interval_30_60min`` for the
        interval measure), one row per origin.

    Raises
    ------
    AccessError
        Unknown measure, bad cutoffs, decay or percentile, missing or negative
        opportunity or population columns, a matrix without the needed columns.
    RoutingError
        Bad origins or destinations, or routing parameters (with a network).
    """
    cutoff_values = _check_measure(measure, cutoffs, decay, percentile)
    if isinstance(travel_times, pd.DataFrame):
        if client is not None:
            raise AccessError(
                "parameter 'client' routes on a Dask cluster; travel_times is already a "
                "matrix: pass the TransportNetwork instead, or client=None"
            )
        destinations = _check_destinations(destinations, opportunities)
        origin_ids = (
            pd.unique(travel_times["from_id"])
            if origins is None and "from_id" in travel_times.columns
            else None
        )
        if origins is not None:
            origins = check_layer(origins, "origins", [], what="population column")
            origin_ids = origins["id"].to_numpy()
        if origin_ids is None:
            raise AccessError("travel_times has no 'from_id' column; is it travel_time_matrix()'s?")
        run = _matrix_runner(travel_times, origin_ids, destinations["id"], percentile)
        provenance = {"travel_times": dict(travel_times.attrs)}
        network = None
    else:
        from .direct import network_runner

        network = travel_times
        if origins is None:
            raise AccessError("accessibility straight from a network needs origins=")
        origins = check_layer(origins, "origins", [], what="population column")
        destinations = _check_destinations(destinations, opportunities, layer=True)
        origin_ids = origins["id"].to_numpy()
        run, provenance = network_runner(
            network, origins, destinations, departure=departure, percentile=percentile,
            engine=engine, progress=progress, chunk_size=CHUNK_ORIGINS, routing=routing,
            client=client,
        )  # fmt: skip
    people = None
    if measure == "2sfca":
        if origins is not None and population is not None:
            origins = check_columns(origins, [population], "origins", what="population column")
        people = _origin_people(origins, destinations, population, origin_ids)
    supply = destinations[opportunities].to_numpy(dtype=np.float64)
    values = _evaluate(run, len(origin_ids), measure, cutoff_values, decay, supply, people)
    labels = (
        [(float(cutoff_values.min()), float(cutoff_values.max()))]
        if measure == "interval"
        else list(cutoff_values)
    )
    result = pd.DataFrame({"id": origin_ids})
    for k, cutoff in enumerate(labels):
        result[measure_column(opportunities, measure, cutoff)] = values[:, k]
    result.attrs = analysis_attrs(
        "accessibility", network, opportunities=opportunities, measure=measure,
        cutoffs=[float(c) for c in cutoff_values], decay=decay if measure == "gravity" else None,
        population=population if measure == "2sfca" else None, percentile=percentile,
        **provenance,
    )  # fmt: skip
    return result


def _check_destinations(destinations, opportunities: str, layer: bool = False):
    if layer or hasattr(destinations, "geometry"):
        return check_layer(destinations, "destinations", [opportunities], what="opportunity column")
    if not isinstance(destinations, pd.DataFrame) or "id" not in destinations.columns:
        raise AccessError(
            "destinations must be a (Geo)DataFrame with an 'id' column and the opportunity "
            f"column {opportunities!r}"
        )
    if destinations["id"].duplicated().any():
        raise AccessError(
            "destinations column 'id' has duplicate values, e.g. "
            f"{show_value(destinations['id'][destinations['id'].duplicated()].iloc[0])}"
        )
    return check_columns(destinations, [opportunities], "destinations", what="opportunity column")
