"""The parameter-shift rule: the gradient a quantum computer can measure, here as a check of the
simulator's autograd gradients (and for circuits run where autograd cannot reach).

For a parameter entering through one Pauli rotation `exp(-i t P / 2)` (RX, RY, RZ, each angle of
Rot, the templates' weights), `d<O>/dt = (<O>(t + π/2) - <O>(t - π/2)) / 2` exactly. Controlled
rotations need a four-term rule and are not covered.
"""

from __future__ import annotations

import math
from typing import Callable

import torch


def parameter_shift(function: Callable[[torch.Tensor], torch.Tensor], params: torch.Tensor,
                    shift: float = math.pi / 2) -> torch.Tensor:
    """The Jacobian of `function(params)` by parameter shifts: shape `(*outputs, *params)`.

    `function` maps the angles `params` (any shape) to expectation values (any shape); each angle
    must enter the circuit through exactly one Pauli rotation. Costs two circuit runs per angle.
    """
    params = params.detach()
    flat = params.reshape(-1)
    columns = []
    with torch.no_grad():
        for index in range(flat.numel()):
            step = torch.zeros_like(flat)
            step[index] = shift
            plus = function((flat + step).reshape(params.shape))
            minus = function((flat - step).reshape(params.shape))
            columns.append((plus - minus) / (2 * math.sin(shift)))
    jacobian = torch.stack(columns, -1)  # (*outputs, params)
    return jacobian.reshape(*jacobian.shape[:-1], *params.shape)
