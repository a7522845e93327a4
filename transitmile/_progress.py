"""tqdm progress bars that follow ``settings.progress`` and detect notebooks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from . import settings

T = TypeVar("T")


def progress_bar(iterable: Iterable[T] | None = None, *, progress: bool | None = None, **kwargs):
    """Wrap ``iterable`` in a tqdm bar unless progress is switched off.

    Parameters
    ----------
    iterable : iterable, optional
        What to iterate over.
    progress : bool, optional
        Show the bar; ``None`` follows ``transitmile.settings.progress``.
    **kwargs
        Passed to :class:`tqdm.auto.tqdm` (``desc``, ``total``, ``unit`` ...).
    """
    show = settings.progress if progress is None else progress
    return _tqdm_class()(iterable, disable=not show, **kwargs)


def _tqdm_class():
    """Choose tqdm's notebook widget when ipywidgets is there, else the text bar.

    ``tqdm.auto`` in a notebook without ipywidgets warns "IProgress not found"
    and prints raw bar text: the plain text bar is the honest fallback.
    """
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm
