"""`split_dataset` (Keras's `keras.utils.split_dataset`): one data set into a left and a right part."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.utils.data


def split_dataset(dataset: Any, left_size: int | float | None = None, right_size: int | float | None = None,
                  shuffle: bool = False, seed: int | None = None) -> tuple[Any, Any]:
    """Splits `dataset` into (left, right).

    Args:
        dataset: an array, a tuple or list of arrays with one first-axis length (e.g. `(x, y)`), or a
            torch `Dataset` of samples.
        left_size, right_size: a fraction in (0, 1) or a number of samples; one may be None (the
            rest), not both.
        shuffle: draw the samples of each side at random (repeatably with `seed`) instead of in order.
    Returns: the two parts in the input's form (arrays, tuples of arrays, or torch `Subset`s).
    """
    if isinstance(dataset, torch.utils.data.Dataset):
        total = len(dataset)
    else:
        parts = dataset if isinstance(dataset, (tuple, list)) else (dataset,)
        arrays = [np.asarray(part) for part in parts]
        lengths = {len(array) for array in arrays}
        if len(lengths) != 1:
            raise ValueError(f"split_dataset: the arrays have different lengths {sorted(lengths)}; they must "
                             "share their first axis (one entry per sample).")
        total = lengths.pop()
    left, right = _sizes(total, left_size, right_size)
    order = np.random.default_rng(seed).permutation(total) if shuffle else np.arange(total)
    left_rows, right_rows = order[:left], order[left:left + right]
    if isinstance(dataset, torch.utils.data.Dataset):
        return (torch.utils.data.Subset(dataset, left_rows.tolist()),
                torch.utils.data.Subset(dataset, right_rows.tolist()))
    left_parts, right_parts = [a[left_rows] for a in arrays], [a[right_rows] for a in arrays]
    if not isinstance(dataset, (tuple, list)):
        return left_parts[0], right_parts[0]
    return type(dataset)(left_parts), type(dataset)(right_parts)


def _sizes(total: int, left_size: Any, right_size: Any) -> tuple[int, int]:
    if left_size is None and right_size is None:
        raise ValueError("split_dataset needs left_size or right_size (a fraction in (0, 1) or a number of samples).")

    def count(size: Any, name: str) -> int | None:
        if size is None:
            return None
        if isinstance(size, float) and 0.0 < size < 1.0:
            return int(round(size * total))
        if isinstance(size, int) and not isinstance(size, bool) and 0 < size <= total:
            return size
        raise ValueError(f"split_dataset: {name} must be a fraction in (0, 1) or a number of samples in "
                         f"[1, {total}]; got {size!r}.")

    left, right = count(left_size, "left_size"), count(right_size, "right_size")
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"split_dataset: left_size and right_size ask for {left} + {right} samples; the data has "
                         f"{total}.")
    return left, right
