"""Which step runs a model's batches: `step_kind` reads `compile(jit_compile=...)`, `make_step`
builds the step (the parts are in step.py, autograd_step.py, graphed_step.py, dense_stack.py and
threads.py; the GAN's in ember/gan/step.py). The loop cannot tell which one it drives."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ember import config, mixed_precision
from ember.optimizers import Optimizer
from ember.training import graphs
from ember.training.autograd_step import CompiledStep, EagerStep
from ember.training.custom_step import CustomStep
from ember.training.data_parallel_step import DataParallelStep
from ember.training.dense_stack import DenseStackStep, HandDerivedStep
from ember.training.graphed_step import GraphedStep
from ember.training.objectives import Objectives
from ember.training.step import Step
from ember.training.threads import ThreadTunedStep

KINDS = ("eager", "compiled", "graphed", "hand_derived", "custom", "data_parallel")


def step_kind(jit_compile: Any, device: torch.device) -> str:
    """What `compile(jit_compile=...)` asks for on `device`: "compiled" (torch.compile), "eager"
    (autograd, for debugging), "graphed" (whole steps recorded in CUDA graphs) or "hand_derived"
    (the gradients written out for the dense stacks `DenseStackStep` covers, autograd for
    everything else). "auto" is "graphed" on CUDA and "hand_derived" on the CPU, where compiling
    took longer than it saved on the benchmarks' workloads (benchmarks/RESULTS.md)."""
    if jit_compile == "auto":
        return "graphed" if device.type == "cuda" else "hand_derived"
    return "compiled" if jit_compile else "eager"


def make_step(model: nn.Module, objectives: Objectives | None, optimizer: Optimizer | None,
              precision: mixed_precision.DTypePolicy, kind: str, scale_loss: bool = True) -> Step:
    """The step of `kind` for this model, or the eager one where that kind does not apply: no
    CUDA graphs on this device, or a model, loss or precision the hand-derived step does not cover."""
    if kind not in KINDS:
        raise ValueError(f"Unknown step kind {kind!r}; expected one of {KINDS}.")
    if kind == "custom":
        return CustomStep(model, precision)
    if kind == "data_parallel":
        return DataParallelStep(model, objectives, optimizer, precision, scale_loss)
    if kind == "compiled":
        return CompiledStep(model, objectives, optimizer, precision, scale_loss)
    if kind == "graphed":
        maker = graphs.maker_for(config.get_device())
        if maker is not None:
            return GraphedStep(model, objectives, optimizer, precision, maker, scale_loss)
    if kind == "hand_derived" and optimizer is not None and not precision.is_mixed:
        stack = DenseStackStep.for_model(model, objectives, optimizer)
        if stack is not None:
            step = HandDerivedStep(model, objectives, optimizer, stack)
            return ThreadTunedStep(step) if config.thread_tuning() else step
    return EagerStep(model, objectives, optimizer, precision, scale_loss)
