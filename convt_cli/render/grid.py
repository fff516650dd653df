"""Box tables of numbers: the explainer's ┌───┬───┐ grids, shared by every command's render."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from rich import box
from rich.table import Table
from rich.text import Text

from ..numbers import format_number

__all__ = ["DEFAULT_PRECISION", "format_number", "matrix_table"]

DEFAULT_PRECISION = 3


def matrix_table(
    values: np.ndarray,
    *,
    precision: int = DEFAULT_PRECISION,
    cell: Callable[[tuple[int, ...], object], Text | str | None] | None = None,
    title: str | None = None,
    show_index: bool = False,
) -> Table:
    """A 1-d or 2-d array as a box table; ``cell(index, value)`` may override a cell's text/style.

    1-d arrays render as one row. Values are formatted with :func:`format_number` unless ``cell``
    returns something else.
    """
    arr = np.asarray(values)
    if arr.ndim == 1:
        arr2 = arr[None, :]
        index_of = lambda r, c: (c,)  # noqa: E731
    elif arr.ndim == 2:
        arr2 = arr
        index_of = lambda r, c: (r, c)  # noqa: E731
    else:
        raise ValueError(f"matrix_table takes 1-d or 2-d arrays, not {arr.ndim}-d")
    table = Table(box=box.SQUARE, show_header=show_index, show_lines=True, title=title,
                  padding=(0, 1), pad_edge=True, collapse_padding=False)
    if show_index:
        table.add_column("")
    for c in range(arr2.shape[1]):
        table.add_column(str(c) if show_index else "", justify="right")
    for r in range(arr2.shape[0]):
        row: list[Text | str] = [str(r)] if show_index else []
        for c in range(arr2.shape[1]):
            idx = index_of(r, c)
            v = arr2[r, c].item() if hasattr(arr2[r, c], "item") else arr2[r, c]
            custom = cell(idx, v) if cell else None
            row.append(custom if custom is not None else format_number(v, precision))
        table.add_row(*row)
    return table
