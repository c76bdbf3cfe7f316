"""`model.export(path, format=...)`: a trained model as a file that runs without ember.

"onnx": an ONNX graph through `torch.onnx.export` (needs the `export` extra: onnx, onnxscript; check
it with onnxruntime), "torch": a `torch.export` program (`torch.export.load(path).module()(x)`).
Both take any batch size: the batch axis is exported as a dynamic dimension. The model runs in
inference mode (dropout off, batch norm on its moving statistics).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator

import torch
from torch import nn

from ember._tree import map_structure
from ember.variables import Variable

FORMATS = ("onnx", "torch")


class _Inference(nn.Module):
    """The model called as ember calls it at predict time."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: Any) -> Any:
        return self.model(inputs, training=False)


def export_model(model: Any, filepath: str | os.PathLike, format: str = "onnx",  # noqa: A002 - Keras's name
                 input_signature: Any = None, verbose: bool = False, opset_version: int | None = None) -> str:
    """Writes the model to `filepath` in `format` ("onnx" or "torch") and returns the path.

    `input_signature`: example inputs (arrays or tensors, any batch size) when the model does not
    know its input shape yet; otherwise inputs are made from the shape it was built for.
    """
    if format not in FORMATS:
        raise ValueError(f"model.export: unknown format {format!r}; ember exports {', '.join(FORMATS)} "
                         "(TensorFlow's SavedModel needs TensorFlow).")
    examples = _example_inputs(model, input_signature)
    if not getattr(model, "built", False):
        with torch.no_grad():
            model(examples, training=False)  # creates the weights, outside the tracer
    was_training = model.training
    wrapper = _Inference(model).eval()
    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    dynamic_shapes = (map_structure(lambda _: {0: batch}, examples),)
    path = os.fspath(filepath)
    try:
        with _plain_tensors(model):
            if format == "torch":
                program = torch.export.export(wrapper, (examples,), dynamic_shapes=dynamic_shapes)
                torch.export.save(program, path)
            else:
                _require_onnx()
                torch.onnx.export(wrapper, (examples,), path, dynamic_shapes=dynamic_shapes, dynamo=True,
                                  verbose=verbose, opset_version=opset_version, external_data=False)
    finally:
        model.train(was_training)
    return path


@contextlib.contextmanager
def _plain_tensors(model: nn.Module) -> Iterator[None]:
    """Weights as plain torch parameters and buffers while torch.export traces (its tracer does not
    take Parameter subclasses as buffers); the same objects become Variables again afterwards."""
    parameters = {id(p) for p in model.parameters()}
    changed = [(t, type(t)) for t in list(model.parameters()) + list(model.buffers()) if isinstance(t, Variable)]
    for tensor, _ in changed:
        tensor.__class__ = nn.Parameter if id(tensor) in parameters else torch.Tensor
    try:
        yield
    finally:
        for tensor, cls in changed:
            tensor.__class__ = cls


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        raise ImportError("model.export(format='onnx') needs the onnx and onnxscript packages: "
                          "pip install 'ember[export]' (or pip install onnx onnxscript onnxruntime).") from None


def _example_inputs(model: Any, input_signature: Any) -> Any:
    if input_signature is not None:
        return map_structure(lambda x: torch.as_tensor(x).to(_device(model)), input_signature)
    spec = getattr(model, "input_spec_shape", None)
    if spec is None or not getattr(model, "built", False):
        raise ValueError(f"Model '{model.name}' does not know its input shape yet, so there is nothing to export. "
                         "Build it first (call it on data, fit it, or start it with ember.Input(...)), or pass "
                         "input_signature=<example inputs>.")
    float_types = model.input_float_types()
    kinds = float_types if isinstance(float_types, (list, dict)) else None

    def example(shape: Any, is_float: bool) -> torch.Tensor:
        if any(d is None for d in shape[1:]):
            raise ValueError(f"Model '{model.name}' takes inputs of shape {tuple(shape)} with unknown sizes besides "
                             "the batch axis; pass input_signature=<example inputs> to fix them.")
        dims = (2,) + tuple(int(d) for d in shape[1:])
        if is_float:
            return torch.zeros(dims, device=_device(model))
        return torch.ones(dims, dtype=torch.long, device=_device(model))

    if isinstance(spec, dict):
        return {key: example(shape, kinds[key] if kinds else float_types) for key, shape in spec.items()}
    if isinstance(spec, list) and spec and isinstance(spec[0], (tuple, list)):
        return [example(shape, kinds[i] if kinds else float_types) for i, shape in enumerate(spec)]
    return example(spec, float_types if isinstance(float_types, bool) else True)


def _device(model: nn.Module) -> torch.device:
    parameter = next(iter(model.parameters()), None)
    return parameter.device if parameter is not None else torch.device("cpu")
