"""Progress bars for long loops, silenced with ``verbose=False``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

__all__ = ["progress"]


def progress(
    iterable: Iterable[T],
    *,
    verbose: bool = True,
    desc: str | None = None,
    total: int | None = None,
) -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm progress bar when ``verbose`` is true.

    Examples
    --------
    >>> sum(progress(range(3), verbose=False))
    3
    """
    if not verbose:
        return iter(iterable)
    from tqdm.auto import tqdm

    return iter(tqdm(iterable, desc=desc, total=total, leave=False))
