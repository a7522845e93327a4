"""How unequal access is: population-weighted inequality and poverty measures.

The set and the definitions follow IPEA's ``accessibility`` R package (Pereira,
Herszenhut et al.), each weighted by the people living at each origin:

- **Palma ratio**: mean access of the richest 10% of people over that of the
  poorest 40% (Palma 2011; Cobham & Sumner 2013). People are ranked by income
  (``rank_by``) when given, else by the access itself. The population of a unit
  that straddles the 40% or 90% line is split between the groups, and units with
  the same rank are pooled, so the ratio does not depend on row order.
- **Gini index**: mean absolute difference between two people's access over twice
  the mean, ``sum_ij w_i w_j |x_i - x_j| / (2 W^2 mu)``.
- **Concentration index**: ``2 cov_w(x, R) / mu`` with ``R`` each person's
  fractional rank by income (O'Donnell, van Doorslaer, Wagstaff & Lindelow 2008):
  negative when access concentrates among the poor. Ranked by the access itself it
  equals the Gini index.
- **Theil T**: ``(1/W) sum_i w_i (x_i/mu) ln(x_i/mu)``, with its exact split into a
  between-group part ``sum_g s_g ln(mu_g/mu)`` and a within-group part
  ``sum_g s_g T_g`` (``s_g`` the group's share of total access; Theil 1967).
- **FGT poverty** (Foster, Greer & Thorbecke 1984): below a poverty line ``z``, the
  headcount ratio ``FGT0``, the poverty gap ``FGT1 = mean((1 - x/z) [x < z])`` and
  the severity ``FGT2 = mean((1 - x/z)^2 [x < z])``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import AccessError, show_value
from .points import check_columns

__all__ = [
    "inequality",
    "INEQUALITY_MEASURES",
    "palma_ratio",
    "gini_index",
    "concentration_index",
    "theil_t",
    "fgt_poverty",
]

#: Measures of :func:`inequality`.
INEQUALITY_MEASURES = ("palma", "gini", "concentration", "theil", "fgt")


def _pooled(values: np.ndarray, weights: np.ndarray, rank: np.ndarray):
    """Sort by rank and pool units of equal rank: (weighted mean value, weight) per rank."""
    keys, group = np.unique(rank, return_inverse=True)
    weight = np.bincount(group, weights=weights, minlength=len(keys))
    total = np.bincount(group, weights=weights * values, minlength=len(keys))
    mean = np.divide(total, weight, out=np.zeros_like(total), where=weight > 0)
    return mean, weight


def _mean_between(values: np.ndarray, weights: np.ndarray, low: float, high: float) -> float:
    """Mean value of the people between two shares of the (sorted) population."""
    total = weights.sum()
    upper = np.cumsum(weights) / total
    lower = upper - weights / total
    overlap = np.clip(np.minimum(upper, high) - np.maximum(lower, low), 0.0, None)
    return float((overlap * values).sum() / (high - low))


def palma_ratio(values, weights, rank=None) -> float:
    """Compute the Palma ratio: mean access of the top 10% over that of the bottom 40%.

    Parameters
    ----------
    values : array-like
        Access of each unit.
    weights : array-like
        People at each unit.
    rank : array-like, optional
        Income of each unit (default: rank by ``values``).

    Returns
    -------
    float
        inf when the poorest 40% have no access, NaN for no people.
    """
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    if not weights.sum() > 0:
        return float("nan")
    mean, weight = _pooled(values, weights, values if rank is None else np.asarray(rank))
    top = _mean_between(mean, weight, 0.9, 1.0)
    bottom = _mean_between(mean, weight, 0.0, 0.4)
    if bottom == 0:
        return float("inf") if top > 0 else float("nan")
    return top / bottom


def gini_index(values, weights) -> float:
    """Compute the population-weighted Gini index (mean absolute difference / twice the mean).

    Parameters
    ----------
    values, weights : array-like
        Access and people of each unit.

    Returns
    -------
    float
        In [0, 1); NaN when nobody has access or there are no people.
    """
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    total, mass = weights.sum(), (weights * values).sum()
    if not (total > 0 and mass > 0):
        return float("nan")
    order = np.argsort(values, kind="stable")
    x, w = values[order], weights[order]
    before = np.cumsum(w) - w
    after = total - before - w
    # sum_ij w_i w_j |x_i - x_j| = 2 sum_i w_i x_i (people below i - people above i)
    return float((w * x * (before - after)).sum() / (total * mass))


def concentration_index(values, weights, rank=None) -> float:
    """Compute the concentration index of access by income rank, ``2 cov_w(x, R) / mu``.

    Parameters
    ----------
    values, weights : array-like
        Access and people of each unit.
    rank : array-like, optional
        Income of each unit; units of equal income share their mid rank.
        Default: the access itself (then the index equals the Gini index).

    Returns
    -------
    float
        In (-1, 1); positive when access concentrates among the rich.
    """
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    total, mass = weights.sum(), (weights * values).sum()
    if not (total > 0 and mass > 0):
        return float("nan")
    mean, weight = _pooled(values, weights, values if rank is None else np.asarray(rank))
    fractional = (np.cumsum(weight) - weight / 2.0) / total
    mu = mass / total
    return float(2.0 * (weight * (mean - mu) * (fractional - 0.5)).sum() / total / mu)


def _theil(values: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
    """Theil T, the people and the mean of one group."""
    total = weights.sum()
    mu = (weights * values).sum() / total if total > 0 else 0.0
    if not mu > 0:
        return float("nan"), total, mu
    ratio = values / mu
    logs = np.log(ratio, out=np.zeros_like(ratio), where=ratio > 0)
    return float((weights * ratio * logs).sum() / total), total, mu


def theil_t(values, weights, groups=None) -> tuple[float, float, float]:
    """Compute Theil's T index and its exact between-group and within-group parts.

    Parameters
    ----------
    values, weights : array-like
        Access and people of each unit.
    groups : array-like, optional
        Group of each unit (without groups, everything is within).

    Returns
    -------
    total, between, within : float
        ``between + within == total`` (up to rounding).
    """
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    total, people, mu = _theil(values, weights)
    if np.isnan(total):
        return total, total, total
    if groups is None:
        return total, 0.0, total
    between = within = 0.0
    for group in pd.unique(np.asarray(groups, dtype=object)):
        member = np.asarray(groups, dtype=object) == group
        t_g, people_g, mu_g = _theil(values[member], weights[member])
        share = people_g * mu_g / (people * mu)
        if share > 0:
            between += share * np.log(mu_g / mu)
            within += share * t_g
    return total, float(between), float(within)


def fgt_poverty(values, weights, poverty_line: float) -> tuple[float, float, float]:
    """Compute the Foster-Greer-Thorbecke poverty measures of access below a line.

    Parameters
    ----------
    values, weights : array-like
        Access and people of each unit.
    poverty_line : float
        Access below this (strictly) is poor.

    Returns
    -------
    headcount, gap, severity : float
        FGT0, FGT1 and FGT2 (NaN for no people).
    """
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    total = weights.sum()
    if not total > 0:
        return (float("nan"),) * 3
    shortfall = np.where(values < poverty_line, 1.0 - values / poverty_line, 0.0)
    poor = values < poverty_line
    return (
        float(weights[poor].sum() / total),
        float((weights * shortfall).sum() / total),
        float((weights * shortfall**2).sum() / total),
    )


def _row(measure, values, weights, rank, groups, poverty_line) -> dict:
    total = weights.sum()
    row = {
        "population": total,
        "mean": (weights * values).sum() / total if total > 0 else np.nan,
    }
    if measure == "palma":
        row["palma_ratio"] = palma_ratio(values, weights, rank)
    elif measure == "gini":
        row["gini"] = gini_index(values, weights)
    elif measure == "concentration":
        row["concentration_index"] = concentration_index(values, weights, rank)
    elif measure == "theil":
        row["theil_t"], row["theil_between"], row["theil_within"] = theil_t(values, weights, groups)
    else:
        row["fgt0_headcount"], row["fgt1_gap"], row["fgt2_severity"] = fgt_poverty(
            values, weights, poverty_line
        )
    return row


def _check_arguments(frame, column, measure, population, by, rank_by, poverty_line):
    if not isinstance(frame, pd.DataFrame):
        raise AccessError(f"frame must be a DataFrame, got {type(frame).__name__}")
    if measure not in INEQUALITY_MEASURES:
        raise AccessError(
            f"parameter 'measure' must be one of {list(INEQUALITY_MEASURES)}, "
            f"got {show_value(measure)}"
        )
    if measure == "fgt" and (
        poverty_line is None
        or isinstance(poverty_line, bool)
        or not isinstance(poverty_line, (int, float))
        or not np.isfinite(poverty_line)
        or poverty_line <= 0
    ):
        raise AccessError(
            "measure 'fgt' needs poverty_line, the access below which people are poor "
            f"(a number > 0), got {show_value(poverty_line)}"
        )
    if rank_by is not None and measure not in ("palma", "concentration"):
        raise AccessError(f"rank_by ranks people for 'palma' and 'concentration', not {measure!r}")
    names = [column] + ([population] if population else []) + ([rank_by] if rank_by else [])
    frame = check_columns(frame, names, "frame", what="column")
    if by is not None and by not in frame.columns:
        raise AccessError(
            f"frame has no column {by!r} to group by; columns are {show_value(list(frame.columns))}"
        )
    return frame


def inequality(
    frame: pd.DataFrame,
    column: str,
    measure: str = "palma",
    population: str | None = "population",
    by: str | None = None,
    rank_by: str | None = None,
    poverty_line: float | None = None,
) -> pd.DataFrame:
    """Measure the inequality of any access measure, population-weighted.

    Parameters
    ----------
    frame : DataFrame
        One row per origin, e.g. :func:`~transitmile.accessibility` joined with the
        origins' population (and income).
    column : str
        The measure whose inequality is wanted (numbers >= 0).
    measure : {"palma", "gini", "concentration", "theil", "fgt"}
        See the module docstring.
    population : str or None
        People at each row (None: every row weighs 1).
    by : str, optional
        A grouping column: one row per group and one for everyone. For ``"theil"``
        the groups also split the everyone row into its between- and within-group
        parts.
    rank_by : str, optional
        Income column that ranks people for ``"palma"`` and ``"concentration"``.
    poverty_line : float, optional
        Needed by ``"fgt"``: access below it is poor (same unit as ``column``).

    Returns
    -------
    DataFrame
        Index: the groups then ``"all"``. Columns ``population``, ``mean`` and the
        measure: ``palma_ratio``; ``gini``; ``concentration_index``; ``theil_t``,
        ``theil_between``, ``theil_within``; ``fgt0_headcount``, ``fgt1_gap``,
        ``fgt2_severity``.

    Raises
    ------
    AccessError
        Unknown measure, missing or negative columns, no poverty line for ``"fgt"``.
    """
    frame = _check_arguments(frame, column, measure, population, by, rank_by, poverty_line)
    values = frame[column].to_numpy(dtype=float)
    weights = frame[population].to_numpy(dtype=float) if population else np.ones(len(frame), float)
    rank = frame[rank_by].to_numpy(dtype=float) if rank_by else None
    rows, labels = [], []
    if by is not None:
        for label, index in frame.groupby(by, dropna=False, sort=True).indices.items():
            rows.append(
                _row(
                    measure, values[index], weights[index],
                    None if rank is None else rank[index], None, poverty_line,
                )
            )  # fmt: skip
            labels.append(label)
    groups = frame[by].to_numpy(dtype=object) if by is not None else None
    rows.append(_row(measure, values, weights, rank, groups, poverty_line))
    labels.append("all")
    table = pd.DataFrame(rows, index=pd.Index(labels, name=by or "group", dtype=object))
    table.attrs = {
        "analysis": "inequality",
        "column": column,
        "measure": measure,
        "population": population,
        "by": by,
        "rank_by": rank_by,
        "poverty_line": poverty_line,
    }
    return table
