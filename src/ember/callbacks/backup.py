"""BackupAndRestore (Keras's): backs training up every epoch or every N batches, and a `fit` that
finds a backup resumes from it, so a run killed (or restarted by `torchrun --max-restarts`)
finishes with the result of an uninterrupted one.

A backup is one file, `backup_dir/backup.ember`: the model file (weights, optimizer state with its
step count, so learning-rate schedules continue where they were) plus `progress.json` (the epoch,
the batches of it done, the History so far) and `state.safetensors` (each rank's torch random
state at the epoch's start and now, and, for a mid-epoch backup, the epoch's partial loss and
metrics). It is written to a temporary file and renamed, so a kill mid-write leaves the previous
backup intact. Under DataParallel every rank takes part (the random states and partial metrics are
gathered) and rank 0 writes; every rank reads the same file on restart (one machine, or a shared
filesystem). Not restored: other callbacks' own state (EarlyStopping's patience counter).
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from ember import saving
from ember.callbacks import resume
from ember.callbacks.base import Callback
from ember.distribution import collectives, runtime, trackers as replica_trackers

FILE_NAME = "backup.ember"


class BackupAndRestore(Callback):
    """Backs up the model, optimizer, random state and progress; resumes from the backup.

    Args:
        backup_dir: folder for the backup (created; use one folder per training run).
        save_freq: "epoch" (after each epoch) or an int N (every N batches, counted across epochs).
        double_checkpoint: keep the previous backup too, used when the latest cannot be read.
        delete_checkpoint: delete the backup when `fit` ends normally.
    """

    def __init__(self, backup_dir: str | os.PathLike, save_freq: str | int = "epoch",
                 double_checkpoint: bool = False, delete_checkpoint: bool = True) -> None:
        super().__init__()
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"BackupAndRestore: save_freq must be 'epoch' or a positive int; got {save_freq!r}.")
        if not backup_dir:
            raise ValueError("BackupAndRestore needs a backup_dir.")
        self.backup_dir, self.save_freq = os.fspath(backup_dir), save_freq
        self.double_checkpoint, self.delete_checkpoint = double_checkpoint, delete_checkpoint
        self._batches_since_backup = 0
        self._epoch, self._epoch_random_state = 0, None
        self._history_to_restore: dict | None = None

    @property
    def path(self) -> str:
        return os.path.join(self.backup_dir, FILE_NAME)

    # ---------------------------------------------------------------- restoring
    def on_train_begin(self, logs=None):
        if getattr(self.model, "_sharded", False):
            raise NotImplementedError("BackupAndRestore does not back up sharded training (FullyShardedDataParallel) "
                                      "yet: its optimizer state lives in shards. Use DataParallel with it, or save "
                                      "the model every epoch with ModelCheckpoint (weights only).")
        self._batches_since_backup = 0
        for path in (self.path, self.path + ".previous"):
            if os.path.exists(path):
                try:
                    self._restore(path)
                    return
                except saving.ModelFileError:
                    if not self.double_checkpoint:
                        raise

    def _restore(self, path: str) -> None:
        members = saving.restore_training_state(self.model, path)
        progress = json.loads(members["progress.json"])
        tensors = load_safetensors(members["state.safetensors"])
        rank = runtime.rank()

        def states(prefix: str) -> dict[str, torch.Tensor] | None:
            found = {key.split("/", 2)[2]: value for key, value in tensors.items()
                     if key.startswith(f"{prefix}/{rank}/")}
            return found or None

        trackers = []
        if rank == 0:  # the epoch's partial metrics, summed over the ranks, live on rank 0
            for index in range(progress["trackers"]):
                trackers.append({key.split("/", 2)[2]: value for key, value in tensors.items()
                                 if key.startswith(f"tracker/{index}/")})
        self.model._resume_point = resume.ResumePoint(progress["epoch"], progress["batches_done"],
                                                      states("epoch_random"), states("random"), trackers)
        self._history_to_restore = progress["history"]

    def on_epoch_begin(self, epoch, logs=None):
        if self._history_to_restore is not None:
            history = self.model.history
            history.history = {key: list(values) for key, values in self._history_to_restore.items()}
            history.epoch = list(range(len(next(iter(history.history.values()), []))))
            self._history_to_restore = None
        self._epoch, self._epoch_random_state = epoch, resume.random_state()

    # ------------------------------------------------------------------ backing up
    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_backup += 1
        if self._batches_since_backup >= self.save_freq:
            self._batches_since_backup = 0
            self._backup(self._epoch, batch + 1, self.model.history.history)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            history = {key: list(values) for key, values in self.model.history.history.items()}
            for key, value in (logs or {}).items():
                history.setdefault(key, []).append(float(value))
            self._backup(epoch + 1, 0, history)

    def _backup(self, epoch: int, batches_done: int, history: dict) -> None:
        """Every rank gathers; rank 0 writes the file."""
        tensors = self._random_states()
        trackers = self.model._objectives.all_trackers() if batches_done else []
        if batches_done and runtime.world_size() > 1:
            replica_trackers.reduce_over_replicas(trackers)  # the partial sums, once, on rank 0; the other ranks start again
            if not runtime.is_primary():
                for tracker in trackers:
                    tracker.reset_state()
        for index, tracker in enumerate(trackers):
            tensors.update({f"tracker/{index}/{key}": value for key, value in resume.tracker_state(tracker).items()})
        if not runtime.is_primary():
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        members = saving.model_members(self.model)
        progress = {"epoch": epoch, "batches_done": batches_done, "trackers": len(trackers),
                    "history": {key: [float(v) for v in values] for key, values in history.items()}}
        members["progress.json"] = json.dumps(progress).encode()
        members["state.safetensors"] = save_safetensors({k: v.contiguous() for k, v in tensors.items()})
        if self.double_checkpoint and os.path.exists(self.path):
            os.replace(self.path, self.path + ".previous")
        saving.write_members(self.path, members)

    def _random_states(self) -> dict[str, torch.Tensor]:
        """Every rank's random state now and at the epoch's start, keyed "random/RANK/DEVICE"."""
        mine = {f"random/{key}": value for key, value in resume.random_state().items()}
        mine.update({f"epoch_random/{key}": value for key, value in (self._epoch_random_state or {}).items()})
        if runtime.world_size() == 1:
            return {f"{key.split('/')[0]}/0/{key.split('/')[1]}": value for key, value in mine.items()}
        gathered = {}
        for key in sorted(mine):  # the same keys on every rank (same devices)
            rows = collectives.gather_rows(mine[key].reshape(1, -1))
            kind, device = key.split("/")
            gathered.update({f"{kind}/{rank}/{device}": rows[rank].clone() for rank in range(rows.shape[0])})
        return gathered

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and runtime.is_primary() and os.path.isdir(self.backup_dir):
            for name in (FILE_NAME, FILE_NAME + ".previous"):
                if os.path.exists(os.path.join(self.backup_dir, name)):
                    os.remove(os.path.join(self.backup_dir, name))
            if not os.listdir(self.backup_dir):
                shutil.rmtree(self.backup_dir)
