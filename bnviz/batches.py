"""How an epoch's shuffled rows are cut into mini-batches.

The training loop, the Run and the server's budget all count batches the same
way; this module sits below all of them.
"""
from __future__ import annotations


def batch_bounds(n_rows: int, batch_size: int) -> list:
    """(start, stop) of each mini-batch in a shuffled epoch.

    batch_size >= n_rows gives one full batch. A trailing batch of a single row
    joins the batch before it (BN cannot normalize one row).
    """
    size = max(1, min(int(batch_size), n_rows))
    bounds = [(s, min(s + size, n_rows)) for s in range(0, n_rows, size)]
    if len(bounds) > 1 and size > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n_rows)]
    return bounds


def n_batches(n_rows: int, batch_size: int) -> int:
    """len(batch_bounds(n_rows, batch_size)), without listing them (the budget asks often)."""
    n_rows = max(int(n_rows), 1)
    size = max(1, min(int(batch_size), n_rows))
    count = -(-n_rows // size)
    return count - 1 if count > 1 and size > 1 and n_rows % size == 1 else count
