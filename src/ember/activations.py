"""Activation functions, by Keras name or as callables: `activations.get("relu")`.

`softmax` and `sigmoid` keep their input on the output tensor (`_ember_logits`), so that a
cross-entropy loss that follows can use the numerically stable fused form (as Keras does).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ember import registry
from ember._naming import lookup

Activation = Callable[[torch.Tensor], torch.Tensor]


def with_logits(output: torch.Tensor, logits: torch.Tensor, kind: str) -> torch.Tensor:
    """`output` (softmax or sigmoid of `logits`, `kind` naming which) marked with its logits."""
    output._ember_logits = logits  # read by the cross-entropy losses
    output._ember_logits_kind = kind
    return output


def linear(x: torch.Tensor) -> torch.Tensor:
    """Identity."""
    return x


def relu(x: torch.Tensor) -> torch.Tensor:
    """max(x, 0)."""
    return torch.relu(x)


def relu6(x: torch.Tensor) -> torch.Tensor:
    """min(max(x, 0), 6)."""
    return F.relu6(x)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """1 / (1 + exp(-x))."""
    return with_logits(torch.sigmoid(x), x, "sigmoid")


def softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """exp(x) / sum(exp(x)) over `axis` (the last by default)."""
    output = torch.softmax(x, dim=axis)
    return with_logits(output, x, "softmax") if axis in (-1, x.ndim - 1) else output


def log_softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """log(softmax(x)) computed stably."""
    return torch.log_softmax(x, dim=axis)


def tanh(x: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent."""
    return torch.tanh(x)


def gelu(x: torch.Tensor, approximate: bool = False) -> torch.Tensor:
    """Gaussian error linear unit (exact erf form unless `approximate`)."""
    return F.gelu(x, approximate="tanh" if approximate else "none")


def leaky_relu(x: torch.Tensor, negative_slope: float = 0.2) -> torch.Tensor:
    """x if x > 0 else negative_slope * x (Keras's default slope 0.2)."""
    return F.leaky_relu(x, negative_slope)


def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Exponential linear unit."""
    return F.elu(x, alpha)


def selu(x: torch.Tensor) -> torch.Tensor:
    """Scaled exponential linear unit."""
    return F.selu(x)


def softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + exp(x))."""
    return F.softplus(x)


def softsign(x: torch.Tensor) -> torch.Tensor:
    """x / (1 + |x|)."""
    return F.softsign(x)


def silu(x: torch.Tensor) -> torch.Tensor:
    """x * sigmoid(x), also called swish."""
    return F.silu(x)


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """relu6(x + 3) / 6, Keras 3's piecewise-linear sigmoid."""
    return F.hardsigmoid(x)


def hard_silu(x: torch.Tensor) -> torch.Tensor:
    """x * hard_sigmoid(x)."""
    return F.hardswish(x)


def mish(x: torch.Tensor) -> torch.Tensor:
    """x * tanh(softplus(x))."""
    return F.mish(x)


def exponential(x: torch.Tensor) -> torch.Tensor:
    """exp(x)."""
    return torch.exp(x)


_ACTIVATIONS: dict[str, Activation] = {
    "linear": linear, "relu": relu, "relu6": relu6, "sigmoid": sigmoid, "softmax": softmax,
    "log_softmax": log_softmax, "tanh": tanh, "gelu": gelu, "leaky_relu": leaky_relu, "elu": elu,
    "selu": selu, "softplus": softplus, "softsign": softsign, "swish": silu, "silu": silu,
    "hard_sigmoid": hard_sigmoid, "hard_silu": hard_silu, "hard_swish": hard_silu, "mish": mish,
    "exponential": exponential,
}


def get(identifier: str | Activation | None) -> Activation:
    """Returns the activation for a name, a callable (returned as is) or None (linear)."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(f"An activation must be a name or a callable; got {identifier!r}.")
    return lookup("activation", identifier, _ACTIVATIONS)


def serialize(activation: Activation) -> str:
    """The name an activation is saved under (a function's `__name__` for custom ones)."""
    for name, function in _ACTIVATIONS.items():
        if function is activation:
            return "swish" if name == "swish" else name
    return registry.get_registered_name(activation)


def names() -> list[str]:
    """All activation names `get` accepts."""
    return sorted(_ACTIVATIONS)
