"""Checks of the sparse travel time tables the embedded engine reads.

The tables (access, egress, transfers, direct) are :class:`transitmile.sparse.SparseTimes`;
:func:`check_sparse_times` validates them for the kernels. ``SparseTimes``,
:func:`sparse_times_from_dense` and :func:`empty_sparse_times` live in
:mod:`transitmile.sparse` and are re-exported here.
"""

from __future__ import annotations

import numpy as np

from ..errors import RoutingError, show_value
from ..sparse import SparseTimes, empty_sparse_times, sparse_times_from_dense

__all__ = ["SparseTimes", "sparse_times_from_dense", "empty_sparse_times", "check_sparse_times"]


def check_sparse_times(
    name: str, table: SparseTimes, shape: tuple[int | None, int | None]
) -> SparseTimes:
    """Validate a table's shape and dtypes for the kernels; return it with kernel dtypes.

    Parameters
    ----------
    name : str
        Parameter name used in the error message (e.g. ``"access"``).
    table : SparseTimes
        The table (any object with ``indptr``, ``indices``, ``seconds``, ``shape``).
    shape : tuple
        Expected ``(n_from, n_to)``; ``None`` leaves a dimension free.

    Raises
    ------
    RoutingError
        If the shape is not the expected one or the arrays are inconsistent.
    """
    for attr in ("indptr", "indices", "seconds", "shape"):
        if not hasattr(table, attr):
            raise RoutingError(
                f"parameter {name!r} must be a SparseTimes table (missing {attr!r}), "
                f"got {show_value(type(table).__name__)}"
            )
    got = tuple(int(x) for x in table.shape)
    for want, have in zip(shape, got, strict=True):
        if want is not None and want != have:
            raise RoutingError(
                f"parameter {name!r} has shape {show_value(got)}, expected {show_value(shape)}"
            )
    indptr = np.ascontiguousarray(table.indptr, dtype=np.int64)
    indices = np.ascontiguousarray(table.indices, dtype=np.int32)
    seconds = np.ascontiguousarray(table.seconds, dtype=np.int32)
    if indptr.shape != (got[0] + 1,) or indptr[-1] != len(indices) or len(indices) != len(seconds):
        raise RoutingError(f"parameter {name!r}: indptr/indices/seconds are inconsistent")
    if len(indices) and (indices.min() < 0 or indices.max() >= got[1]):
        bad = int(indices.max()) if indices.max() >= got[1] else int(indices.min())
        raise RoutingError(
            f"parameter {name!r}: column index {show_value(bad)} outside 0..{got[1] - 1}"
        )
    if len(seconds) and seconds.min() < 0:
        raise RoutingError(
            f"parameter {name!r}: travel times must be >= 0 seconds, got {show_value(int(seconds.min()))}"
        )
    return SparseTimes(indptr=indptr, indices=indices, seconds=seconds, shape=got)
