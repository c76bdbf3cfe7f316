"""Shapes without computation: layers run on fake tensors to learn output shapes and check inputs.

Shape logic is written once, in each layer's `forward`; running it on `FakeTensor`s (metadata
only, no data, no arithmetic) gives output shapes for `summary()` and the functional API, and
turns a shape mismatch into an error that names the layer before any data flows.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensor, FakeTensorMode, unset_fake_temporarily

from ember._tree import first_leaf, map_structure

BATCH_PLACEHOLDER = 2  # stands for the unknown batch size
UNKNOWN_PLACEHOLDER = 1009  # stands for any other unknown dimension (variable sequence lengths)


@dataclass(frozen=True)
class TensorSpec:
    """The shape (batch axis first, None where unknown) and dtype of a tensor, without its data."""

    shape: tuple[int | None, ...]
    dtype: torch.dtype = torch.float32
    mask: "TensorSpec | None" = None  # the padding mask the tensor carries, if any


class ShapeMismatchError(ValueError):
    """A layer could not take the input shape it was given."""


class _Inference:
    depth = 0  # how many `run_for_shapes` calls are running (fake tensors of other tracers, such as
    # torch.export's, are not ember's shape inference: layers then run as they do on real data)


def is_shape_inference(args: Any) -> bool:
    """Whether the arguments are fake tensors of ember's own shape inference (`run_for_shapes`)."""
    return _Inference.depth > 0 and first_leaf(args, lambda leaf: isinstance(leaf, FakeTensor)) is not None


@contextlib.contextmanager
def real_tensors() -> Iterator[None]:
    """Suspends fake-tensor mode, so that `build` allocates real weights."""
    if torch._C._get_dispatch_mode(torch._C._TorchDispatchModeKey.FAKE) is None:
        yield
    else:
        with unset_fake_temporarily():
            yield


def call_for_shapes(layer: nn.Module, args: tuple, kwargs: dict) -> Any:
    """Runs a built layer on fake tensors, records its shapes and names it in any error."""
    try:
        outputs = nn.Module.__call__(layer, *args, **kwargs)
    except ShapeMismatchError:
        raise
    except Exception as error:  # any failure here is a shape or type mismatch for this layer
        got = describe(map_structure(batchless, args[0] if len(args) == 1 else list(args)))
        expected = getattr(layer, "input_spec_shape", None)
        label = f"Layer '{getattr(layer, 'name', type(layer).__name__)}' ({type(layer).__name__})"
        if expected is not None and describe(expected) == got:  # the shape is right: the layer's code failed
            raise ShapeMismatchError(f"{label} failed on input shape {got}: {type(error).__name__}: "
                                     f"{first_line(error)}") from error
        expected_text = f"it was built for input shape {describe(expected)}; " if expected is not None else ""
        raise ShapeMismatchError(f"{label} cannot take input shape {got}: {expected_text}{first_line(error)}") from error
    if hasattr(layer, "output_spec_shape"):
        layer.output_spec_shape = map_structure(batchless, outputs)
    return outputs


def run_for_shapes(function: Callable[[Any], Any], specs: Any, module: nn.Module | None = None) -> Any:
    """Calls `function` on `specs` with every `TensorSpec` leaf replaced by a fake tensor, and
    returns its outputs with every tensor replaced by a `TensorSpec` (batch axis None)."""
    _Inference.depth += 1
    try:
        with _quiet_fake_tensor_logs(), _inference_mode(module), FakeTensorMode(allow_non_fake_inputs=True):
            fakes = map_structure(_fake_from_spec, specs)
            outputs = function(fakes)
            return map_structure(_spec_of, outputs)
    finally:
        _Inference.depth -= 1


def output_shape(layer: nn.Module, input_shape: Any, dtype: torch.dtype = torch.float32) -> Any:
    """The batch-first output shape of `layer` for a batch-first input shape (or a list of them)."""
    if isinstance(input_shape, tuple):
        specs = TensorSpec(input_shape, dtype)
    else:
        specs = [TensorSpec(tuple(shape), dtype) for shape in input_shape]
    result = run_for_shapes(lambda fake: layer(fake), specs, module=layer)
    return map_structure(lambda leaf: leaf.shape if isinstance(leaf, TensorSpec) else leaf, result)


def batchless(value: Any) -> Any:
    """A tensor's shape with the batch axis (and placeholder dims) shown as None."""
    if not isinstance(value, torch.Tensor):
        return value
    dims = list(value.shape)
    if not dims:
        return ()
    return (None,) + tuple(None if d == UNKNOWN_PLACEHOLDER else d for d in dims[1:])


def describe(shape: Any) -> str:
    """A shape as Keras prints it: `(None, 28, 28)`."""
    if isinstance(shape, tuple):
        return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    if isinstance(shape, list):
        return "[" + ", ".join(describe(s) for s in shape) + "]"
    return str(shape)


def _spec_of(value: Any) -> Any:
    if not isinstance(value, torch.Tensor):
        return value
    mask = getattr(value, "_keras_mask", None)
    return TensorSpec(batchless(value), value.dtype, _spec_of(mask) if isinstance(mask, torch.Tensor) else None)


def _fake_from_spec(spec: Any) -> Any:
    if not isinstance(spec, TensorSpec):
        return spec
    shape, dtype = spec.shape, spec.dtype
    dims = [BATCH_PLACEHOLDER if i == 0 and d is None else (UNKNOWN_PLACEHOLDER if d is None else d)
            for i, d in enumerate(shape)]
    fake = torch.empty(dims, dtype=dtype)
    if spec.mask is not None:
        fake._keras_mask = _fake_from_spec(spec.mask)
    return fake


def first_line(error: Exception) -> str:
    """The first line of an error's message (its type's name when the message is empty)."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


@contextlib.contextmanager
def _inference_mode(module: nn.Module | None) -> Iterator[None]:
    """No autograd, and inference mode so that nothing (BatchNorm statistics) is updated."""
    previous = module.training if module is not None else None
    if module is not None:
        module.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        if module is not None:
            module.train(previous)


@contextlib.contextmanager
def _quiet_fake_tensor_logs() -> Iterator[None]:
    """Fake-tensor dispatch logs every failed op at ERROR level; our own message replaces it."""
    logger = logging.getLogger("torch._subclasses.fake_tensor")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


def check_data_shapes(owner: str, expected: Any, given: list[tuple], hint: str = "") -> None:
    """Data shapes `given` (one per input, batch first) against the `expected` input shape(s) a
    model was built for; a ValueError names both and the likely fix. `hint` follows the expected shape."""
    wanted = [expected] if isinstance(expected, tuple) else list(flatten_shapes(expected))
    if len(given) != len(wanted):
        raise ValueError(f"{owner} expects {len(wanted)} input(s); got {len(given)}.")
    for index, (got, want) in enumerate(zip(given, wanted)):
        compatible = len(got) == len(want) and all(w is None or g is None or g == w for g, w in zip(got[1:], want[1:]))
        if not compatible:
            which = f"input {index} " if len(wanted) > 1 else "input "
            raise ValueError(f"{owner} expects {which}shape {describe(want)}{hint}; got data of shape "
                             f"{describe(got)}. {_shape_fix(tuple(got), tuple(want))}")


def _shape_fix(got: tuple, want: tuple) -> str:
    """The most likely fix for data of shape `got` given to a model that wants `want`."""
    if len(got) == len(want) == 4:
        if got[1:] == (want[3], want[1], want[2]):
            return ("The data looks channels-first (batch, channels, height, width); ember, like Keras, is "
                    "channels-last: pass x.transpose(0, 2, 3, 1), or build the layers with "
                    "data_format='channels_first'.")
        if got[1:3] == want[1:3] and got[3] != want[3]:
            return (f"The images have {got[3]} channels but the model was built for {want[3]} (e.g. colour "
                    "images into a grayscale model): convert the images, or build the model with "
                    f"input shape {(want[1], want[2], got[3])}.")
    if len(got) == len(want) - 1 and len(want) == 4:
        return "Add a channels axis, e.g. x[..., None]."
    return "Reshape the data (e.g. x.reshape(len(x), -1) to flatten images) or change the model's input shape."


def flatten_shapes(structure: Any) -> list[tuple]:
    if isinstance(structure, tuple):
        return [structure]
    if isinstance(structure, dict):
        return [s for value in structure.values() for s in flatten_shapes(value)]
    return [s for value in structure for s in flatten_shapes(value)]


def shape_to_json(shape: Any) -> Any:
    """A shape (or a list of shapes) as JSON values: tuples become lists, None stays."""
    return [shape_to_json(s) for s in shape] if isinstance(shape, (list, tuple)) else shape


def shape_from_json(value: Any) -> Any:
    """`shape_to_json`'s output back: a list of sizes is a tuple, a list of those a list of tuples."""
    if isinstance(value, list) and all(isinstance(d, (int, type(None))) for d in value):
        return tuple(value)
    if isinstance(value, list):
        return [shape_from_json(v) for v in value]
    return value

