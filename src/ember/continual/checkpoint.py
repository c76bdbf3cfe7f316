"""A continual run's checkpoint: one file that `train_stream(..., checkpoint=path)` rewrites after
each experience, so that a stopped run resumes at the next experience with everything it had: the
model's weights, the optimizer's state, the strategy's state (replay buffer, importances, memory)
and the accuracy matrix so far.

The file is a model file's zip without the architecture (the caller builds the same model):
    model.safetensors, optimizer.json/.safetensors   as `ember.saving` writes them
    continual.json                                    {"format", "next_experience", "strategy",
                                                       "accuracy_matrix", "history", "state": {...}}
    strategy.safetensors                              the tensors and arrays of the strategy's state
Reading it runs no code from the file (JSON and safetensors only).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from ember import saving
from ember.continual.strategies import Strategy

FORMAT = "ember.continual"


@dataclass
class Progress:
    """Where a checkpointed run stands: the next experience to train and what was measured."""

    next_experience: int
    accuracy_matrix: np.ndarray
    history: list[dict[str, list[float]]]


def save_checkpoint(path: str | os.PathLike, model: Any, strategy: Strategy, progress: Progress) -> None:
    """Writes the run's state (see the module docstring), replacing `path` atomically."""
    tensors, state = saving.split_tensors(strategy.state(), "strategy")
    document = {"format": FORMAT, "next_experience": progress.next_experience, "strategy": type(strategy).__name__,
                "accuracy_matrix": np.asarray(progress.accuracy_matrix).tolist(), "history": progress.history,
                "state": state}
    members = saving.training_state_members(model)
    members["continual.json"] = json.dumps(document).encode()
    members["strategy.safetensors"] = save_safetensors(tensors)
    saving.write_members(os.fspath(path), members)


def load_checkpoint(path: str | os.PathLike, model: Any, strategy: Strategy) -> Progress:
    """Restores the weights and optimizer state into `model` (compiled with the run's optimizer),
    the state into `strategy` (of the class that wrote the file), and returns the progress."""
    path = os.fspath(path)
    members = saving.restore_training_state(model, path)
    try:
        document = json.loads(members["continual.json"])
        tensors = load_safetensors(members["strategy.safetensors"])
    except (KeyError, ValueError, UnicodeDecodeError) as error:
        raise saving.ModelFileError(f"{path} is not a continual-learning checkpoint of train_stream ({error}).") from None
    if document.get("format") != FORMAT:
        raise saving.ModelFileError(f"{path} is not a continual-learning checkpoint (format {document.get('format')!r}).")
    if document["strategy"] != type(strategy).__name__:
        raise ValueError(f"{path} was written by a {document['strategy']} run; this run's strategy is "
                         f"{type(strategy).__name__}. Resume with the same strategy, or use another checkpoint path.")
    strategy.load_state(saving.join_tensors(tensors, document["state"]))
    return Progress(int(document["next_experience"]), np.asarray(document["accuracy_matrix"], dtype=np.float64),
                    list(document["history"]))
