"""`Input(...)`: the entry of a functional model, a symbolic tensor made by an `InputLayer`."""

from __future__ import annotations

from typing import Any

import torch

from ember import config
from ember.layers.base import Layer, Shape
from ember.layers.symbolic import Node, SymbolicTensor

_DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
           "bfloat16": torch.bfloat16, "int32": torch.int32, "int64": torch.int64, "int8": torch.int8,
           "uint8": torch.uint8, "bool": torch.bool}



class InputLayer(Layer):
    """The entry point of a functional model; holds the input's shape and dtype."""

    stepwise_decoding = True

    def __init__(self, shape: tuple[int | None, ...] | None = None, batch_size: int | None = None,
                 dtype: Any = None, name: str | None = None, **kwargs: Any) -> None:
        shape = kwargs.pop("input_shape", shape)
        super().__init__(name=name, **kwargs)
        if shape is None:
            raise ValueError("InputLayer needs a shape: the shape of one sample, without the batch axis.")
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self.shape: Shape = (batch_size,) + tuple(None if d is None else int(d) for d in shape)
        self.input_dtype = _to_dtype(dtype)
        self.built = True
        self.input_spec_shape = self.output_spec_shape = (None,) + self.shape[1:]
        node = Node(self, (), {})
        node.outputs = [SymbolicTensor(self.output_spec_shape, self.input_dtype, node)]
        self._inbound_nodes = [node]  # so that `self.output` is the input's symbolic tensor

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs

    def get_config(self) -> dict[str, Any]:
        return {"shape": list(self.shape[1:]), "batch_size": self.shape[0], "name": self.name,
                "dtype": str(self.input_dtype).replace("torch.", "")}


def Input(shape: tuple[int | None, ...] | int | None = None, batch_size: int | None = None, dtype: Any = None,
          name: str | None = None, **kwargs: Any) -> SymbolicTensor:
    """A symbolic input of a functional model: `x = ember.Input(shape=(784,))`.

    Args:
        shape: shape of one sample, without the batch axis; None for a variable length.
        dtype: "float32" (default) or an integer type for token ids ("int64").
    """
    if "batch_shape" in kwargs:
        batch_shape = kwargs.pop("batch_shape")
        batch_size, shape = batch_shape[0], tuple(batch_shape[1:])
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, **kwargs).output


def _to_dtype(dtype: Any) -> torch.dtype:
    if dtype is None:
        return config.float_dtype()
    if isinstance(dtype, torch.dtype):
        return dtype
    name = getattr(dtype, "name", None) or str(dtype)  # numpy dtypes and strings
    if name not in _DTYPES:
        raise ValueError(f"Unknown dtype {dtype!r}; expected one of {sorted(_DTYPES)}.")
    return _DTYPES[name]
