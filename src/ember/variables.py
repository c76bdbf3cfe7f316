"""Weights that are also Keras variables.

Every weight an ember layer or metric creates is a `Variable`: a `torch.nn.Parameter` (so torch
optimizers, `torch.compile`, `state_dict` and autograd treat it as usual, at no extra cost per
operation) that also answers Keras 3's variable API: `value`, `assign`, `assign_add`,
`assign_sub`, `numpy()`, `name`, `path`, `trainable`. Non-trainable weights (Keras's
`trainable=False`, metric state) are Variables too, registered as buffers with
`requires_grad=False`.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from ember import _dtypes, config, initializers


class Variable(nn.Parameter):
    """A tensor weight with Keras's variable methods; arithmetic on it gives plain tensors.

    `Variable(data, requires_grad=True)` as for `nn.Parameter`, or Keras's
    `Variable(initializer, shape=None, dtype=None, trainable=True, name=None)` where `initializer` is
    a value (array, tensor, number) or an initializer (name or callable) used with `shape`.
    """

    def __new__(cls, initializer: Any = None, shape: Any = None, dtype: Any = None, trainable: bool = True,
                autocast: bool = True, aggregation: str | None = None, name: str | None = None,
                requires_grad: bool | None = None) -> "Variable":
        if isinstance(shape, bool):  # nn.Parameter's positional form: Variable(data, requires_grad)
            trainable, shape = shape, None
        if requires_grad is not None:
            trainable = requires_grad
        data = _initial_value(initializer, shape, dtype)
        variable = super().__new__(cls, data, trainable and (data.is_floating_point() or data.is_complex()))
        if name is not None:
            variable.name = name
        return variable

    @property
    def name(self) -> str | None:  # torch.Tensor.name is a read-only slot, hence the property
        return self.__dict__.get("_keras_name")

    @name.setter
    def name(self, value: str | None) -> None:
        self.__dict__["_keras_name"] = value

    @property
    def path(self) -> str | None:
        """`layer_name/weight_name` (Keras's `variable.path`), once the variable belongs to a layer."""
        return self.__dict__.get("_keras_path", self.name)

    @path.setter
    def path(self, value: str | None) -> None:
        self.__dict__["_keras_path"] = value

    @property
    def value(self) -> "Variable":
        """The tensor itself (Keras's `variable.value`): `v.value.grad` is the gradient after backward."""
        return self

    @property
    def trainable(self) -> bool:
        return self.requires_grad

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self.requires_grad_(bool(value))

    def assign(self, value: Any) -> "Variable":
        """Overwrites the values in place (outside autograd); `value` has this shape, or is a scalar."""
        with torch.no_grad():
            self.copy_(self._converted(value, "assign"))
        return self

    def assign_add(self, delta: Any) -> "Variable":
        """Adds `delta` in place (outside autograd)."""
        with torch.no_grad():
            self.add_(self._converted(delta, "assign_add"))
        return self

    def assign_sub(self, delta: Any) -> "Variable":
        """Subtracts `delta` in place (outside autograd)."""
        with torch.no_grad():
            self.sub_(self._converted(delta, "assign_sub"))
        return self

    def numpy(self, *, force: bool = False) -> np.ndarray:  # type: ignore[override]
        """The values as a NumPy array (on the host; torch's own `numpy()` refuses weights that need grad)."""
        return self.detach().cpu().numpy(force=force)

    def _converted(self, value: Any, method: str) -> torch.Tensor:
        tensor = torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value.detach(),
                                 device=self.device).to(self.dtype)
        if tensor.shape != self.shape and tensor.numel() != 1:
            raise ValueError(f"Variable '{self.path}' has shape {tuple(self.shape)}; {method}() got a value of "
                             f"shape {tuple(tensor.shape)}. Give a value of the variable's shape (or a scalar).")
        return tensor

    def __deepcopy__(self, memo: dict) -> "Variable":
        result = Variable(self.data.clone(memory_format=torch.preserve_format), self.requires_grad)
        result.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild_variable, (self.data, self.requires_grad, dict(self.__dict__)))

    def __repr__(self) -> str:
        return (f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={str(self.dtype).replace('torch.', '')}, "
                f"value={self.detach().cpu().numpy()!r}>")


def _initial_value(initializer: Any, shape: Any, dtype: Any) -> torch.Tensor:
    if isinstance(initializer, torch.Tensor) and shape is None:
        return initializer.detach() if dtype is None else initializer.detach().to(_dtypes.to_torch(dtype))
    if isinstance(initializer, (str, dict)) or (callable(initializer) and not isinstance(initializer, np.ndarray)):
        if shape is None:
            raise ValueError("Variable(initializer=...) with an initializer needs a `shape`.")
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        return initializers.get(initializer)(shape, _dtypes.to_torch(dtype, default=config.float_dtype()))
    value = torch.as_tensor(np.asarray(initializer if initializer is not None else 0.0))
    if dtype is not None:
        return value.to(_dtypes.to_torch(dtype))
    return value.to(config.float_dtype()) if value.is_floating_point() else value


def _rebuild_variable(data: torch.Tensor, requires_grad: bool, state: dict) -> Variable:
    variable = Variable(data, requires_grad)
    variable.__dict__.update(state)
    return variable


def as_variable(tensor: torch.Tensor, name: str | None = None) -> torch.Tensor:
    """Gives a plain `nn.Parameter` the Variable methods in place (same object, so optimizers that
    hold it keep working); other tensors are returned as they are."""
    if type(tensor) is nn.Parameter:
        tensor.__class__ = Variable
    if name is not None and isinstance(tensor, Variable) and tensor.name is None:
        tensor.name = name
    return tensor


def new_variable(value: torch.Tensor, trainable: bool, name: str, path: str) -> Variable:
    """A Variable holding `value` (not copied), named as Keras names it."""
    variable = Variable(value, requires_grad=trainable)
    variable.name, variable.path = name, path
    return variable
