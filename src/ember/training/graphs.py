"""CUDA graphs for the train, test and predict steps.

At the tutorials' batch sizes a step is many small kernels, and on a GPU the host launching them,
not the GPU running them, sets the pace. A CUDA graph records one step's launches once and replays
them with one call. A recorded step repeats its kernels on the same memory and runs no Python, so:
- values that change between steps live on the device: the learning rate is a tensor
  (`Optimizer.use_tensor_learning_rate`); the schedule, the step count, the weight average and the
  metric bookkeeping run on the host around each replay;
- each batch is copied into the graph's static input buffers, and the outputs are the graph's
  static tensors, overwritten by the next replay (predictions are copied out);
- each batch signature (shapes and dtypes of x, y and sample_weight) has its own graph, recorded
  once the signature came `WARMUP_STEPS` times in a row, after eager steps on a side stream as
  recording needs; so an epoch's smaller last batch runs eagerly;
- weights, buffers or optimizer states replaced after recording (their memory moved) make the
  graphs stale: they are dropped and recorded again;
- a step that reads values back to the host (`.item()`, data-dependent shapes) cannot be
  recorded: the runner says so once and runs eagerly.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, Iterator

import torch

from ember._tree import flatten, map_structure
from ember.layers import shapes

WARMUP_STEPS = 3
GRAPHS_PER_PHASE = 2  # recorded batch signatures kept per phase; the oldest goes (with its memory)


class CudaGraphMaker:
    """Makes `torch.cuda.CUDAGraph`s, and runs the warm-up steps on a side stream."""

    def __init__(self) -> None:
        self._stream: torch.cuda.Stream | None = None

    def new(self) -> "CudaGraph":
        return CudaGraph()

    @contextlib.contextmanager
    def warmup(self) -> Iterator[None]:
        self._stream = self._stream or torch.cuda.Stream()
        current = torch.cuda.current_stream()
        self._stream.wait_stream(current)
        try:
            with torch.cuda.stream(self._stream):
                yield
        finally:
            current.wait_stream(self._stream)


class CudaGraph:
    """One recorded CUDA graph: `capture(function)` returns the function's (static) outputs."""

    def __init__(self) -> None:
        self._graph = torch.cuda.CUDAGraph()

    def capture(self, function: Callable[[], Any]) -> Any:
        with torch.cuda.graph(self._graph):
            return function()

    def replay(self) -> None:
        self._graph.replay()


def maker_for(device: torch.device) -> CudaGraphMaker | None:
    """The graph maker for `device`, or None where there are no graphs (the CPU)."""
    return CudaGraphMaker() if device.type == "cuda" and torch.cuda.is_available() else None


def signature(batch: Any) -> tuple:
    """What a recorded graph is specific to: each leaf's shape and dtype."""
    return tuple((tuple(leaf.shape), leaf.dtype) if isinstance(leaf, torch.Tensor) else type(leaf)
                 for leaf in flatten(batch))


class RecordedStep:
    """One step function recorded for one batch signature: its static inputs, graph and outputs."""

    def __init__(self, graph: Any, function: Callable[[Any], Any], batch: Any) -> None:
        self.inputs = map_structure(lambda leaf: leaf.clone() if isinstance(leaf, torch.Tensor) else leaf, batch)
        self._input_tensors = _tensors(self.inputs)
        self._graph = graph
        self.outputs = graph.capture(lambda: function(self.inputs))

    def __call__(self, batch: Any) -> Any:
        torch._foreach_copy_(self._input_tensors, _tensors(batch))
        self._graph.replay()
        return self.outputs


class StepGraphs:
    """A runner's recorded steps, per phase ("train", "test", "predict") and batch signature.

    `state_tensors()` lists the tensors the steps keep between batches (weights, buffers,
    optimizer states); when any of them has moved, the recorded graphs are dropped."""

    def __init__(self, maker: Any, state_tensors: Callable[[], list[torch.Tensor]]) -> None:
        self.maker, self._state_tensors = maker, state_tensors
        self._recorded: dict[tuple, RecordedStep] = {}
        self._streaks: dict[str, tuple[tuple, int]] = {}
        self._state_key: tuple | None = None
        self.disabled: set[str] = set()  # phases whose step could not be recorded

    def run(self, phase: str, batch: Any, record: Callable[[Any], Any], eager: Callable[[Any], Any],
            prepare: Callable[[], None] | None = None) -> tuple[bool, Any]:
        """(True, the recorded outputs) after replaying `record`'s graph for this batch, or
        (False, eager(batch)) where the batch runs eagerly. `prepare` runs before recording."""
        if phase in self.disabled:
            return False, eager(batch)
        key = (phase, signature(batch))
        self._drop_if_stale()
        recorded = self._recorded.get(key)
        if recorded is None:
            last, count = self._streaks.get(phase, (None, 0))
            count = count + 1 if last == key else 1
            self._streaks[phase] = (key, count)
            if count <= WARMUP_STEPS:
                with self.maker.warmup():
                    return False, eager(batch)
            recorded = self._record(key, batch, record, prepare)
            if recorded is None:
                return False, eager(batch)
        return True, recorded(batch)

    def recorded_signatures(self) -> list[tuple[str, tuple]]:
        """(phase, batch signature) of each recorded step kept, oldest first."""
        return list(self._recorded)

    def _record(self, key: tuple, batch: Any, record: Callable[[Any], Any],
                prepare: Callable[[], None] | None) -> RecordedStep | None:
        if prepare is not None:
            prepare()
        same_phase = [other for other in self._recorded if other[0] == key[0]]
        for oldest in same_phase[:max(0, len(same_phase) - GRAPHS_PER_PHASE + 1)]:
            del self._recorded[oldest]
        try:
            recorded = self._recorded[key] = RecordedStep(self.maker.new(), record, batch)
        except Exception as error:  # noqa: BLE001 - any failure to record means: run eagerly
            self.disabled.add(key[0])
            warnings.warn(f"CUDA graphs: this model's {key[0]} step cannot be recorded ({type(error).__name__}: "
                          f"{shapes.first_line(error)}); it runs eagerly instead.", RuntimeWarning, stacklevel=6)
            return None
        return recorded

    def _drop_if_stale(self) -> None:
        state_key = tuple(tensor.data_ptr() for tensor in self._state_tensors())
        if state_key != self._state_key:
            self._recorded.clear()
            self._streaks.clear()
            self._state_key = state_key


def _tensors(tree: Any) -> list[torch.Tensor]:
    return [leaf for leaf in flatten(tree) if isinstance(leaf, torch.Tensor)]
