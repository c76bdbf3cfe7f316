"""Callbacks (Keras's `keras.callbacks`): hooks the training loop calls at each epoch and batch.

base.py holds `Callback`, `CallbackList` and the small ones; monitors.py the callbacks that watch a
logged quantity (EarlyStopping, ModelCheckpoint, ReduceLROnPlateau); loggers.py CSVLogger and
TensorBoard; progress.py the progress bar; history.py `History`. `GANMonitor` is in `ember.gan`.
"""

from ember.callbacks.base import (Callback, CallbackList, LambdaCallback, LearningRateScheduler, SwapEMAWeights,
                                  TerminateOnNaN)
from ember.callbacks.backup import BackupAndRestore
from ember.callbacks.history import History
from ember.callbacks.loggers import CSVLogger, TensorBoard
from ember.callbacks.monitors import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from ember.callbacks.progress import ProgbarLogger

__all__ = ["BackupAndRestore", "Callback", "CallbackList", "LambdaCallback", "LearningRateScheduler", "SwapEMAWeights", "TerminateOnNaN",
           "History", "CSVLogger", "TensorBoard", "EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau",
           "ProgbarLogger"]
