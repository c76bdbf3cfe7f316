"""A CPU stand-in for `torch.cuda.CUDAGraph`, so that CI (which has no GPU) tests the graphed step's logic.

It keeps the semantics that make CUDA graphs easy to get wrong:
- capture records the tensor operations and leaves no effect behind: weights and other tensors that
  existed before are restored, the random generator is rewound, and every tensor the capture
  created is filled with NaN (on a GPU it holds whatever the memory held) until the first replay;
- replay runs the recorded operations again on the same tensors, writing each result into the
  tensor the capture created (its "static address"), so Python code is not run again: a Python
  number read during capture stays what it was then, a tensor replaced after capture is not seen;
- reading a value back to the host during capture (`.item()`, data-dependent shapes) raises, as
  `cudaStreamEndCapture` would.

Where a GPU writes each result in place, the emulator copies it into the captured tensor, so an
operation whose output holds more than values (oneDNN's CPU LSTM keeps a workspace tied to its
memory) is not reproduced: tests of such layers turn oneDNN off.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from ember._tree import flatten

_HOST_READS = {torch.ops.aten._local_scalar_dense.default, torch.ops.aten.nonzero.default,
               torch.ops.aten.equal.default, torch.ops.aten.is_nonzero.default}


def _returns(function: Any, result: Any) -> list:
    """One value per declared return (a tensor, a list of tensors or something else)."""
    return list(result) if len(function._schema.returns) > 1 else [result]


def _storage(tensor: torch.Tensor) -> int:
    return tensor.untyped_storage().data_ptr()


def _tensors(value: Any) -> list[torch.Tensor]:
    return [leaf for leaf in flatten(value) if isinstance(leaf, torch.Tensor)]


class _Recorder(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.operations: list[tuple[Any, tuple, dict, list]] = []
        self.created: dict[int, torch.Tensor] = {}
        self.saved: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def __torch_dispatch__(self, function, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if function.namespace == "profiler":
            return function(*args, **kwargs)
        if function in _HOST_READS:
            raise RuntimeError(f"operation not permitted when stream is capturing ({function} reads a value "
                               "back to the host)")
        # every tensor from before the capture is put back after it (some operations, such as
        # native_batch_norm's update of the running statistics, write without declaring it); views
        # are put back through their bases
        for tensor in _tensors((args, kwargs)):
            tensor = tensor._base if tensor._is_view() else tensor
            if id(tensor) not in self.created and id(tensor) not in self.saved:
                self.saved[id(tensor)] = (tensor, tensor.detach().clone())
        result = function(*args, **kwargs)
        fresh, inputs = [], None
        for returned, value in zip(function._schema.returns, _returns(function, result)):
            new = _tensors(value)
            if returned.alias_info is not None:  # "may alias": `to` returns its input or a new tensor
                inputs = inputs if inputs is not None else {_storage(t) for t in _tensors((args, kwargs))}
                new = [tensor for tensor in new if _storage(tensor) not in inputs]
            fresh.append(new)
            self.created.update((id(tensor), tensor) for tensor in new)
        self.operations.append((function, args, kwargs, fresh))
        return result


class EmulatedGraph:
    """Records `capture(function)` and replays it; see the module docstring for what it checks."""

    def __init__(self) -> None:
        self._recorder: _Recorder | None = None
        self.replays = 0

    def capture(self, function: Callable[[], Any]) -> Any:
        recorder, random_state = _Recorder(), torch.get_rng_state()
        try:
            with recorder:
                outputs = function()
        finally:
            with torch.inference_mode():  # the recorded tensors may be inference tensors
                for tensor, saved in recorder.saved.values():
                    tensor.copy_(saved)
                for tensor in recorder.created.values():
                    if tensor.is_floating_point():
                        tensor.fill_(float("nan"))
            torch.set_rng_state(random_state)  # nor does it draw random numbers
        self._recorder = recorder
        return outputs

    def replay(self) -> None:
        with torch.inference_mode():
            for function, args, kwargs, fresh in self._recorder.operations:
                result = function(*args, **kwargs)
                for statics, returned in zip(fresh, _returns(function, result)):
                    for static, value in zip(statics, _tensors(returned)):
                        if static.shape != value.shape:
                            raise RuntimeError(f"{function} gave shape {tuple(value.shape)} on replay, "
                                               f"{tuple(static.shape)} at capture")
                        static.copy_(value)
        self.replays += 1


class EmulatedGraphs:
    """The graph maker the graphed step uses, for the CPU: `new()` graphs, a no-op warm-up stream."""

    def __init__(self) -> None:
        self.graphs: list[EmulatedGraph] = []

    def new(self) -> EmulatedGraph:
        self.graphs.append(EmulatedGraph())
        return self.graphs[-1]

    def warmup(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()
