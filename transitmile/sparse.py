"""Sparse travel time tables (CSR), shared by the street layer and the engines.

A :class:`SparseTimes` stores only the pairs within a time limit, row by row. The
helpers here build tables from pairs (:func:`indptr_from_rows`,
:func:`keep_min_per_pair`), combine tables (:func:`min_tables`) and convert them
(:func:`sparse_times_from_dense`, :meth:`SparseTimes.to_dense`, :attr:`SparseTimes.T`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import RoutingError, show_value

__all__ = [
    "SparseTimes",
    "indptr_from_rows",
    "keep_min_per_pair",
    "min_tables",
    "stack_rows",
    "sparse_times_from_dense",
    "empty_sparse_times",
]


@dataclass
class SparseTimes:
    """Travel times in CSR layout: only the pairs within the time limit.

    Row ``i`` (a from-point) holds the to-point indices ``indices[indptr[i]:indptr[i+1]]``
    (ascending) and their travel times ``seconds[indptr[i]:indptr[i+1]]``. A pair that is
    absent is unreachable within the limit (which differs from 0 s, a point to itself).

    Attributes
    ----------
    indptr : ndarray of int64, shape (n_from + 1,)
        Row pointers.
    indices : ndarray of int32
        To-point index of each entry.
    seconds : ndarray of int32
        Travel time of each entry, seconds (rounded to the nearest second).
    shape : tuple of int
        ``(n_from, n_to)``.
    """

    indptr: np.ndarray
    indices: np.ndarray
    seconds: np.ndarray
    shape: tuple[int, int]

    @property
    def nnz(self) -> int:
        """Number of stored (reachable) pairs."""
        return len(self.indices)

    @property
    def rows(self) -> np.ndarray:
        """Row (from-point) index of each stored pair, int64."""
        return np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))

    def to_dense(self, fill: float = np.inf) -> np.ndarray:
        """Dense seconds, ``fill`` where unreachable.

        Parameters
        ----------
        fill : float
            Value of the absent pairs (default inf).

        Returns
        -------
        numpy.ndarray
            float64 ``(n_from, n_to)``.
        """
        dense = np.full(self.shape, fill, dtype=np.float64)
        dense[self.rows, self.indices] = self.seconds
        return dense

    @property
    def T(self) -> SparseTimes:  # noqa: N802 (numpy's name for a transpose)
        """The same pairs from the other side: shape ``(n_to, n_from)``."""
        n_rows, n_cols = self.shape
        rows = self.rows.astype(np.int32)
        order = np.lexsort((rows, self.indices))
        indptr = indptr_from_rows(self.indices, n_cols)
        return SparseTimes(indptr, rows[order], self.seconds[order], (n_cols, n_rows))

    def within(self, max_s: int) -> SparseTimes:
        """Keep the pairs of at most ``max_s`` seconds (the same object if all are kept).

        Parameters
        ----------
        max_s : int
            Longest time kept, seconds.

        Returns
        -------
        SparseTimes
            Same shape, fewer pairs.
        """
        keep = self.seconds <= max_s
        if keep.all():
            return self
        indptr = indptr_from_rows(self.rows[keep], self.shape[0])
        return SparseTimes(indptr, self.indices[keep], self.seconds[keep], self.shape)

    def nearest(self, limit: int) -> SparseTimes:
        """Keep each row's ``limit`` quickest pairs (the same object if none is dropped).

        Ties go to the lower column index, so the result does not depend on the order
        of the pairs.

        Parameters
        ----------
        limit : int
            Pairs kept per row (>= 1).

        Returns
        -------
        SparseTimes
            Same shape, at most ``limit`` pairs per row.
        """
        if self.nnz == 0 or np.diff(self.indptr).max() <= limit:
            return self
        rows = self.rows
        order = np.lexsort((self.indices, self.seconds, rows))
        rank = np.arange(self.nnz) - self.indptr[rows[order]]
        keep = np.zeros(self.nnz, dtype=bool)
        keep[order[rank < limit]] = True
        indptr = indptr_from_rows(rows[keep], self.shape[0])
        return SparseTimes(indptr, self.indices[keep], self.seconds[keep], self.shape)

    def to_frame(self, from_ids=None, to_ids=None) -> pd.DataFrame:
        """Long table ``from_id, to_id, seconds`` of the reachable pairs.

        Parameters
        ----------
        from_ids, to_ids : array-like, optional
            Ids of the rows / columns (e.g. ``Snapped.ids``); positions if not given.

        Returns
        -------
        pandas.DataFrame
            One row per stored pair.
        """
        from_ids = np.arange(self.shape[0]) if from_ids is None else np.asarray(from_ids)
        to_ids = np.arange(self.shape[1]) if to_ids is None else np.asarray(to_ids)
        return pd.DataFrame(
            {
                "from_id": from_ids[self.rows],
                "to_id": to_ids[self.indices],
                "seconds": self.seconds,
            }
        )


def indptr_from_rows(rows: np.ndarray, n_rows: int) -> np.ndarray:
    """CSR row pointers of pairs grouped by row (rows need not be sorted for the counts).

    Parameters
    ----------
    rows : ndarray of int
        Row index of each pair.
    n_rows : int
        Number of rows of the table.

    Returns
    -------
    numpy.ndarray
        int64 ``(n_rows + 1,)``: ``indptr[i + 1] - indptr[i]`` pairs in row ``i``.
    """
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return indptr


def keep_min_per_pair(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One entry per (row, column) pair, the smallest value, sorted by row then column.

    Parameters
    ----------
    rows, cols : ndarray of int
        Pair indices; a pair may repeat.
    values : ndarray
        Value of each entry (seconds, metres).

    Returns
    -------
    rows, cols, values : numpy.ndarray
        The pairs without repeats, each with its minimum.
    """
    order = np.lexsort((values, cols, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    first = np.ones(len(rows), bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return rows[first], cols[first], values[first]


def min_tables(tables: Sequence[SparseTimes], shape: tuple[int, int] | None) -> SparseTimes | None:
    """Pairwise minimum of several sparse time tables of the same shape.

    Parameters
    ----------
    tables : sequence of SparseTimes
        Tables to combine (e.g. walking and cycling access).
    shape : tuple of int or None
        Shape of the empty table returned when ``tables`` is empty; None returns None.

    Returns
    -------
    SparseTimes or None
        Each pair present in any table, with its shortest time.
    """
    if not tables:
        return None if shape is None else empty_sparse_times(*shape)
    if len(tables) == 1:
        return tables[0]
    shape = tables[0].shape
    rows, cols, secs = keep_min_per_pair(
        np.concatenate([t.rows for t in tables]),
        np.concatenate([t.indices for t in tables]),
        np.concatenate([t.seconds for t in tables]),
    )
    return SparseTimes(
        indptr_from_rows(rows, shape[0]), cols.astype(np.int32), secs.astype(np.int32), shape
    )


def stack_rows(tables: Sequence[SparseTimes], n_to: int) -> SparseTimes:
    """One table from blocks of consecutive rows, in order (the inverse of slicing rows).

    Parameters
    ----------
    tables : sequence of SparseTimes
        Blocks of rows, each with ``n_to`` columns.
    n_to : int
        Number of columns (also the shape when ``tables`` is empty).

    Returns
    -------
    SparseTimes
        ``sum of rows x n_to``; the same object when there is one block.

    Raises
    ------
    RoutingError
        A block does not have ``n_to`` columns.
    """
    for table in tables:
        if table.shape[1] != n_to:
            raise RoutingError(
                f"cannot stack a table of shape {show_value(table.shape)} into {n_to} columns"
            )
    if len(tables) == 1:
        return tables[0]
    if not tables:
        return empty_sparse_times(0, n_to)
    offsets = np.cumsum([0] + [t.nnz for t in tables[:-1]])
    indptr = np.concatenate(
        [[0]] + [t.indptr[1:] + o for t, o in zip(tables, offsets, strict=True)]
    )
    return SparseTimes(
        indptr=indptr.astype(np.int64),
        indices=np.concatenate([t.indices for t in tables]),
        seconds=np.concatenate([t.seconds for t in tables]),
        shape=(sum(t.shape[0] for t in tables), int(n_to)),
    )


def sparse_times_from_dense(seconds: np.ndarray, max_s: float = np.inf) -> SparseTimes:
    """Build a :class:`SparseTimes` from a dense array.

    Parameters
    ----------
    seconds : array-like
        2-D seconds; NaN, inf or more than ``max_s`` means absent.
    max_s : float
        Longest time kept, seconds.

    Returns
    -------
    SparseTimes
        Seconds rounded to integers.

    Raises
    ------
    RoutingError
        The array is not 2-D.
    """
    dense = np.asarray(seconds, dtype=np.float64)
    if dense.ndim != 2:
        raise RoutingError(f"a travel time table must be 2-D, got shape {show_value(dense.shape)}")
    keep = np.isfinite(dense) & (dense <= max_s)
    rows, cols = np.nonzero(keep)
    return SparseTimes(
        indptr=indptr_from_rows(rows, dense.shape[0]),
        indices=cols.astype(np.int32),
        seconds=np.rint(dense[rows, cols]).astype(np.int32),
        shape=(int(dense.shape[0]), int(dense.shape[1])),
    )


def empty_sparse_times(n_from: int, n_to: int) -> SparseTimes:
    """Make a table with no pairs (e.g. no walking transfers, no direct trips).

    Parameters
    ----------
    n_from, n_to : int
        Shape of the table.

    Returns
    -------
    SparseTimes
        Shape ``(n_from, n_to)``, nothing stored.
    """
    return SparseTimes(
        indptr=np.zeros(n_from + 1, dtype=np.int64),
        indices=np.zeros(0, dtype=np.int32),
        seconds=np.zeros(0, dtype=np.int32),
        shape=(int(n_from), int(n_to)),
    )
