"""What `fit`, `evaluate` and `predict` do with the user's data before the loop: argument checks,
conversion and checks of the arrays, `validation_split`, `class_weight`, and the batch source
(`arrays.ArraySource`, `streaming.StreamingSource` or `arrays.IterableSource`).

The model is not touched here: `prepare` returns the source, the targets (for the loss checks)
and the inputs to learn shapes from; `Model` builds itself from those.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch

from ember._tree import first_leaf
from ember._validation import require_positive_int
from ember.data import arrays, streaming

DEFAULT_BATCH_SIZE = 32


class Prepared(NamedTuple):
    source: Any  # yields (x, y, sample_weight) device batches, one epoch per `epoch()`
    targets: Any  # y as tensors on the host (the first batch's for a stream), or None
    inputs: Any  # x as tensors on the host (the first batch's for a stream): what shapes are learnt from
    streamed: bool  # whether the data comes batch by batch from an iterable


def check_fit_arguments(epochs: Any, initial_epoch: int, batch_size: int | None, validation_freq: Any = 1) -> int:
    """The checks `fit` makes of its loop arguments (a GAN's `fit` too); returns the batch size."""
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1 or initial_epoch >= epochs:
        raise ValueError(f"epochs must be an integer above initial_epoch ({initial_epoch}); got {epochs!r}.")
    require_positive_int("validation_freq", validation_freq)
    return batch_size_or_default(batch_size)


def batch_size_or_default(batch_size: int | None) -> int:
    return DEFAULT_BATCH_SIZE if batch_size is None else require_positive_int("batch_size", batch_size)


def prepare(x: Any, y: Any, sample_weight: Any, batch_size: int | None, shuffle: bool, steps: int | None,
            float_types: Any, device: torch.device, argument_prefix: str = "") -> Prepared:
    """The batch source for (x, y, sample_weight). `float_types` says which inputs are float
    (True) and which are integer ids (False), as `Model.input_float_types` gives it."""
    if arrays.is_iterable_dataset(x):
        if y is not None:
            raise ValueError("When x is a dataset or generator it must yield (x, y) pairs; do not pass y too.")
        source = arrays.IterableSource(x, torch.device("cpu"), steps, float_types, shuffle)
        first_x, first_y, _ = source.first_batch()
        source.device = device
        return Prepared(source, first_y, first_x, True)
    if x is None:
        raise ValueError(f"{argument_prefix}x is required.")
    x = arrays.to_tensor_tree(x, f"{argument_prefix}x", float_types)
    y = arrays.to_tensor_tree(y, f"{argument_prefix}y", False)
    sample_weight = arrays.to_tensor_tree(sample_weight, f"{argument_prefix}sample_weight")
    arrays.num_samples(x, y, sample_weight)
    arrays.check_finite(x, f"{argument_prefix}x")
    arrays.check_finite(y, f"{argument_prefix}y")
    size = batch_size_or_default(batch_size)
    return Prepared(streaming.batch_source(x, y, sample_weight, size, shuffle, device), y, x, False)


def unpack_validation(validation_data: Any) -> tuple[Any, Any, Any]:
    """`validation_data` as (x, y, sample_weight): a tuple of two or three, or a dataset (x alone)."""
    if arrays.is_iterable_dataset(validation_data):
        return validation_data, None, None
    if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight), or a "
                         "dataset yielding such tuples.")
    x, y, *rest = validation_data
    return x, y, rest[0] if rest else None


def split_validation(x: Any, y: Any, sample_weight: Any, fraction: float, float_types: Any) -> tuple:
    """Keras's `validation_split`: the last `fraction` of the samples (before shuffling) validate.
    Returns (x, y, sample_weight, (x_val, y_val, sample_weight_val))."""
    if arrays.is_iterable_dataset(x):
        raise ValueError("validation_split needs arrays; for a dataset or generator pass validation_data.")
    x = arrays.to_tensor_tree(x, "x", float_types)
    y = arrays.to_tensor_tree(y, "y", False)
    sample_weight = arrays.to_tensor_tree(sample_weight, "sample_weight")
    total = arrays.num_samples(x, y, sample_weight)
    (x_train, y_train, w_train), (x_val, y_val, w_val) = arrays.split_tail((x, y, sample_weight), fraction, total)
    return x_train, y_train, w_train, (x_val, y_val, w_val)


def class_sample_weights(y: Any, class_weight: dict, sample_weight: Any) -> torch.Tensor:
    """Per-sample weights from Keras's `class_weight={class_id: weight}` (integer or one-hot targets)."""
    if isinstance(y, dict) and len(y) == 1:
        y = next(iter(y.values()))
    if y is None or isinstance(y, dict) or isinstance(y, list) and len(y) and hasattr(y[0], "shape"):
        raise ValueError("class_weight needs the targets of a single output: one array y (or a dict with one "
                         "entry); for several outputs, pass sample_weight per output instead.")
    labels = arrays.to_tensor(y, "y", float_type=False)
    if labels.ndim > 1 and labels.shape[-1] > 1:
        labels = labels.argmax(dim=-1)
    labels = labels.reshape(len(labels), -1)[:, 0].long()
    table = torch.ones(int(max(max(class_weight), labels.max().item())) + 1)
    for class_id, weight in class_weight.items():
        table[int(class_id)] = float(weight)
    weights = table[labels]
    if sample_weight is not None:
        weights = weights * arrays.to_tensor(sample_weight, "sample_weight").reshape(-1)
    return weights


def batch_length(x: Any) -> int:
    """The number of samples in `x` (for the `*_on_batch` methods, which take one whole batch)."""
    leaf = first_leaf(x, lambda v: hasattr(v, "shape") or isinstance(v, (list, tuple)))
    return len(leaf if leaf is not None else x)
