"""Model: a Layer that can be compiled, trained, evaluated, used for prediction and saved.

`Model.fit` is thin: it checks its arguments, turns the data into device batches, builds the
callbacks and hands them to the training engine. Subclass it with a `call()` (Keras style), or use
`Model(inputs, outputs)` (the functional API) or `Sequential`.
"""

from __future__ import annotations

import math
import os
from typing import Any

import torch
from torch import nn

from ember import config, fairness, metrics as metrics_module, mixed_precision, optimizers, saving
from ember import semi_supervised as semi_supervised_module
from ember._tree import first_leaf, flatten, map_structure
from ember.callbacks.base import CallbackList, TerminateOnNaN
from ember.callbacks.history import History
from ember.callbacks.progress import ProgbarLogger, format_logs, resolve_verbose
from ember.data import preparation
from ember.distribution import api as distribution_api, placement, runtime
from ember.layers import shapes
from ember.layers.base import Layer
from ember.layers.symbolic import SymbolicTensor
from ember.models.export import export_model
from ember.models.summary import summary_text
from ember.training.compile_settings import CompileSettings
from ember.training.custom_step import OVERRIDABLE, CustomStepLogs, unpack
from ember.training.engine import Engine, to_python
from ember.training.objectives import Objectives
from ember.training.semi_supervised_step import (SemiSupervisedLogs, SemiSupervisedStep, prepare_unlabeled,
                                                 repeat_labeled)
from ember.training.step import Step, batch_size_of, extra_losses, loss_contributing_layers
from ember.training import steps as step_factory

UNCOMPILED = CompileSettings(loss="mse")  # the defaults a model that predicts before compile() uses


class Model(Layer):
    """A trainable model with Keras's `compile`/`fit`/`evaluate`/`predict`.

    `Model(inputs, outputs)` makes a functional model; subclasses define `call(inputs, training=None)`.
    A subclass called with `(inputs, outputs)` (Keras's `CustomModel(inputs, outputs)` that overrides
    `train_step`) is a functional model too, with the subclass's methods.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> "Model":
        if cls is Model and ("outputs" in kwargs or len(args) >= 2):
            from ember.models.functional import Functional

            return super().__new__(Functional)
        return super().__new__(cls)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> "Model":
        """Rebuilds the model from `get_config()`; a functional config (a subclass made as
        `CustomModel(inputs, outputs)`) replays its graph."""
        if "nodes" in config and "inputs" in config:
            from ember.models.functional import Functional

            return Functional.from_config.__func__(cls, config, custom_objects)
        return cls(**config)

    def __init__(self, *args: Any, name: str | None = None, trainable: bool = True, **kwargs: Any) -> None:
        if _functional_arguments(args, kwargs):  # a subclass's super().__init__(inputs, outputs)
            from ember.models.functional import Functional, functional_variant

            self.__class__ = functional_variant(type(self))
            Functional.__init__(self, *args, name=name, trainable=trainable, **kwargs)
            return
        super().__init__(name=name, trainable=trainable, **kwargs)
        self.optimizer: optimizers.Optimizer | None = None
        self.compiled = False
        self.stop_training = False
        self.stopped_on_nonfinite_loss = False
        self.history: History | None = None
        self._settings = UNCOMPILED  # compile()'s arguments
        self._objectives: Objectives | None = None
        self._output_specs: list[shapes.TensorSpec] | None = None

    # ----------------------------------------------------------------- structure
    @property
    def layers(self) -> list[nn.Module]:
        """The model's layers, in order."""
        return [module for module in self.children() if not isinstance(module, nn.ModuleList)]

    def get_layer(self, name: str | None = None, index: int | None = None) -> nn.Module:
        """A layer by name or by index in `layers`."""
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"Model '{self.name}' has {len(self.layers)} layers; index {index} is out of range.")
            return self.layers[index]
        for layer in self.layers:
            if getattr(layer, "name", None) == name:
                return layer
        names = [getattr(layer, "name", type(layer).__name__) for layer in self.layers]
        raise ValueError(f"No layer named {name!r} in model '{self.name}'. Its layers are: {names}.")

    @property
    def output_names(self) -> list[str]:
        count = len(self._output_specs) if self._output_specs is not None else 1
        return ["output"] if count == 1 else [f"output_{i + 1}" for i in range(count)]

    def input_float_types(self) -> Any:
        """Whether each input is a float input (True) or integer ids (False); True when unknown."""
        return True

    def entry_layers(self) -> list[tuple[Layer, int]]:
        """(layer, input index) for the layers that read the model's inputs directly, so that they
        can check the data once on entry (token ids against the vocabulary, for instance)."""
        return []

    def layer_chain(self) -> tuple[list[nn.Module], tuple] | None:
        """(layers, batch-first input shape) when the model is a plain chain of layers, each feeding
        the next (what the hand-derived dense step needs); None for anything else. Containers that
        are chains override it."""
        return None

    def build(self, input_shape: Any = None) -> None:
        """Builds the weights for a batch-first input shape, e.g. `model.build((None, 784))`."""
        if input_shape is None:
            return
        is_single = isinstance(input_shape, tuple) or (isinstance(input_shape, list) and all(
            isinstance(d, (int, type(None))) for d in input_shape))
        specs = shapes.TensorSpec(tuple(input_shape)) if is_single \
            else [shapes.TensorSpec(tuple(shape)) for shape in input_shape]
        self._infer_outputs(specs)

    def build_from_shapes(self, *input_shapes: Any, device: torch.device | None = None) -> None:
        """A model's layers build themselves as data first flows through them; this only records the shape."""
        if not self.built:
            self.built = True
            self.input_spec_shape = input_shapes[0] if len(input_shapes) == 1 else list(input_shapes)

    def _infer_outputs(self, specs: Any) -> list[shapes.TensorSpec]:
        """Runs the model on fake inputs: builds every layer, checks shapes, learns the outputs."""
        if self.built and self.input_spec_shape is not None:
            shapes.check_data_shapes(f"Model '{self.name}'", self.input_spec_shape, [s.shape for s in flatten(specs)],
                                     self._first_layer_hint())
        if getattr(self, "_sharded", False):  # FSDP's hooks cannot run on fake tensors; the shapes are known
            return self._output_specs
        outputs = shapes.run_for_shapes(lambda fake: self(fake), specs, module=self)
        self._output_specs = [leaf for leaf in flatten(outputs) if isinstance(leaf, shapes.TensorSpec)]
        if not self.built:
            self.built = True
            self.input_spec_shape = map_structure(lambda s: s.shape, specs)
        return self._output_specs

    def _output_shapes(self) -> list[tuple | None]:
        """The outputs' shapes, or one None for a custom-step model that has no call() to run."""
        return [spec.shape for spec in self._output_specs] if self._output_specs is not None else [None]

    def _has_forward(self) -> bool:
        return type(self).forward is not Layer.forward or type(self).call is not Layer.call

    def _first_layer_hint(self) -> str:
        return ""

    # ------------------------------------------------------------------- compile
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None, metrics: Any = None,
                weighted_metrics: Any = None, run_eagerly: bool = False, steps_per_execution: int = 1,
                jit_compile: Any = "auto", auto_scale_loss: bool = True, precision: Any = None) -> None:
        """Sets the optimizer, loss(es) and metrics used by `fit` and `evaluate` (Keras's arguments).

        Args:
            optimizer: a name ("adam", "sgd", ...) or an `ember.optimizers` object.
            loss: a name, a `Loss` object or a function `(y_true, y_pred) -> loss`; a list or dict of
                them (by output name) for several outputs.
            loss_weights: one float per output, multiplying its loss in the total.
            metrics: names or `Metric` objects ("accuracy" is resolved from the loss and shapes);
                they see the padding mask, not the sample weights. `weighted_metrics`: the same, also
                weighted by `sample_weight` / `class_weight` (logged as `weighted_<name>` on a clash).
            run_eagerly: True runs every step eagerly through autograd (for debugging); it overrides
                `jit_compile`.
            steps_per_execution: batches per call of the step loop: batch-level callbacks (and the
                progress bar) run once per that many batches, as Keras does.
            jit_compile: "auto" (CUDA graphs on a GPU, the hand-derived dense step on the CPU where it
                applies), True (`torch.compile`) or False (eager); see `ember.training.steps`.
            auto_scale_loss: under "mixed_float16", scale the loss against float16 underflow.
            precision: "float32", "mixed_bfloat16" or "mixed_float16" (see `ember.mixed_precision`);
                None takes the global policy.
        """
        policy = mixed_precision.get(precision)
        self._settings = CompileSettings(loss, metrics, weighted_metrics, loss_weights, jit_compile, policy.name,
                                         run_eagerly, steps_per_execution, auto_scale_loss)
        self.optimizer = optimizers.get(optimizer)
        self._precision = policy
        self._objectives = None
        self.compiled = True

    def _engine(self, objectives: Objectives | None) -> Engine:
        step = self.make_step()
        if step.kind != "custom":
            return Engine(self, objectives, step, self._settings.steps_per_execution)
        for metric in self.metrics:  # the model's own trackers, made in __init__ on the CPU
            metric.to(config.get_device())
        return Engine(self, CustomStepLogs(self, step), step, self._settings.steps_per_execution)

    def _semi_supervised_engine(self, objectives: Objectives, unlabeled: torch.Tensor,
                                method: semi_supervised_module.SemiSupervisedMethod) -> Engine:
        """The engine of a semi-supervised fit: the labeled loss plus `method`'s unlabeled term."""
        if self.uses_custom_steps() or distribution_api.active() is not None:
            raise NotImplementedError("Semi-supervised fit runs the built-in step in one process; this model overrides "
                                      "train_step or runs under a distribution.")
        if len(objectives.losses) != 1 or not isinstance(objectives.losses[0], semi_supervised_module.CLASSIFICATION_LOSSES):
            raise ValueError(f"Semi-supervised fit trains a classifier with one output and a cross-entropy loss "
                             f"(pseudo-labels are classes); got loss(es) {objectives.losses}. Compile with "
                             "loss='sparse_categorical_crossentropy' (or categorical_crossentropy).")
        logs = SemiSupervisedLogs(objectives)
        step = SemiSupervisedStep(self, logs, self.optimizer, self.precision_policy, self._settings.auto_scale_loss,
                                  unlabeled, method)
        return Engine(self, logs, step, self._settings.steps_per_execution)

    def uses_custom_steps(self) -> bool:
        """Whether the model overrides one of Keras 3's step methods (`train_step`, `test_step`,
        `predict_step`, `compute_loss`, `compute_metrics`): then its batches go through them, eagerly."""
        return any(getattr(type(self), name) is not getattr(Model, name) for name in OVERRIDABLE)

    def make_step(self) -> Step:
        """The step that `fit`, `evaluate` and `predict` run each batch through; its `kind` says how
        ("hand_derived", "graphed", "compiled", "eager"; see `ember.training.steps`). Made for the
        current compile settings, device and layers, and kept while they stay, so that a compiled
        step is compiled once, not at every call."""
        settings = self._settings
        kind = "custom" if self.uses_custom_steps() else settings.step_kind(config.get_device())
        if distribution_api.active() is not None:
            if kind == "custom":
                raise NotImplementedError(f"{type(self).__name__} overrides Keras's step methods (train_step, ...), "
                                          "which DataParallel does not run yet: their gradients would not be "
                                          "averaged over the replicas. Train it in one process.")
            kind = "data_parallel"
        scale_loss = settings.auto_scale_loss
        objectives = self._objectives
        key = (id(objectives), id(self.optimizer), self.precision_policy.name, kind, scale_loss,
               id(distribution_api.active()), tuple(map(id, self.modules())), tuple(map(id, self.parameters())))
        if getattr(self, "_step_key", None) != key:
            self._step = step_factory.make_step(self, objectives, self.optimizer, self.precision_policy, kind, scale_loss)
            self._step_key = key
        return self._step

    @property
    def precision_policy(self) -> mixed_precision.DTypePolicy:
        """The precision of the forward pass: the one given to compile, else the global policy."""
        return getattr(self, "_precision", None) or mixed_precision.global_policy()

    def _require_compiled(self, method: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"You must compile the model before calling {method}(): "
                               "model.compile(optimizer='adam', loss='...', metrics=['accuracy']).")

    def _objectives_for(self, targets: Any) -> Objectives:
        if self._objectives is None:
            self._objectives = self._settings.objectives(self.output_names)
        self._objectives.resolve(targets, self._output_shapes())
        return self._objectives

    # ------------------------------------------------------------------- data in
    def _prepare(self, x: Any, y: Any, sample_weight: Any, batch_size: int | None, shuffle: bool,
                 steps: int | None, argument_prefix: str = "", training: bool = False) -> tuple[Any, Any]:
        """A data source for (x, y, sample_weight) and the CPU targets used for checks; the model
        builds itself for the inputs' shapes, and its entry layers check the arrays' values. Under
        DataParallel the source is this replica's part (of each global batch when `training`)."""
        prepared = preparation.prepare(x, y, sample_weight, batch_size, shuffle, steps, self.input_float_types(),
                                       config.get_device(), argument_prefix)
        if distribution_api.active() is not None:
            share = placement.training_source if training else placement.evaluation_source
            prepared = prepared._replace(source=share(prepared.source))
        if not prepared.streamed:
            inputs = flatten(prepared.inputs)
            for layer, index in self.entry_layers():
                layer.check_input_values(inputs[index])
        if self._has_forward() or not self.uses_custom_steps():  # keras.io's GAN has no call(): nothing to run
            self._infer_outputs(_specs_of(prepared.inputs))
        return prepared.source, prepared.targets

    def _place(self) -> None:
        device = config.get_device()
        config.apply_tf32(device)
        if first_leaf(list(self.parameters()) + list(self.buffers()), lambda t: t.device != device) is not None:
            self.to(device)
        placement.shard_model(self)  # under FullyShardedDataParallel, once

    # ----------------------------------------------------------------------- fit
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: int | str = "auto", callbacks: list | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: dict | None = None,
            sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1, unlabeled_x: Any = None, semi_supervised: Any = None) -> History:
        """Trains the model for `epochs` epochs and returns its History (Keras's arguments and defaults).

        Args:
            x: inputs `(samples, ...)`: an array, a list or dict of arrays for several inputs, or a
                dataset / generator / DataLoader yielding `(x, y)` or `(x, y, sample_weight)` batches.
            y: targets `(samples, ...)` (a list or dict of them for several outputs); None for a dataset.
            batch_size: samples per step (32). epochs: the epoch to stop before, counting from 0.
            validation_split: the last fraction of the arrays (before shuffling) to validate on;
                `validation_data`: `(x_val, y_val[, sample_weight_val])` or a dataset instead.
            class_weight: `{class_id: weight}` multiplying each sample's loss by its class's weight.
            sample_weight: `(samples,)` weights of each sample's loss.
            steps_per_epoch / validation_steps: batches per epoch / per validation (all by default).
            validation_freq: validate every that many epochs.
            unlabeled_x: unlabeled samples shaped like `x`, for semi-supervised training of a
                classifier (`ember.semi_supervised`); an epoch is then one pass over them, the
                labeled samples repeated to match. `semi_supervised`: "fixmatch" (the default),
                "pseudo_label", or a `FixMatch(...)` / `PseudoLabel(...)` object.
        Returns: `History`, whose `history` maps "loss", each metric and their "val_" versions to
            one value per epoch.
        """
        self._require_compiled("fit")
        preparation.check_fit_arguments(epochs, initial_epoch, batch_size, validation_freq)
        if validation_split and validation_data is not None:
            raise ValueError("Pass either validation_split or validation_data, not both.")
        if validation_split:
            x, y, sample_weight, validation_data = preparation.split_validation(x, y, sample_weight, validation_split,
                                                                                self.input_float_types())
        if class_weight is not None:
            sample_weight = preparation.class_sample_weights(y, class_weight, sample_weight)
        method = unlabeled = None
        if unlabeled_x is not None:
            method = semi_supervised_module.get(semi_supervised)
            unlabeled = prepare_unlabeled(unlabeled_x, x, config.get_device())
            x, y, sample_weight = repeat_labeled(x, y, sample_weight, len(unlabeled), method.unlabeled_ratio)
        elif semi_supervised is not None:
            raise ValueError("semi_supervised= needs the unlabeled samples: fit(x, y, unlabeled_x=u, ...).")
        source, targets = self._prepare(x, y, sample_weight, batch_size, shuffle, steps_per_epoch, training=True)
        objectives = self._objectives_for(targets)
        validation = None
        if validation_data is not None:
            validation_x, validation_y, validation_weight = preparation.unpack_validation(validation_data)
            validation, validation_targets = self._prepare(validation_x, validation_y, validation_weight,
                                                           validation_batch_size or batch_size, False,
                                                           validation_steps, "validation_data: ")
            objectives.resolve(validation_targets, self._output_shapes())
        self._place()
        objectives.to(config.get_device())
        self.optimizer.build(self.parameters())
        callback_list = self._fit_callbacks(callbacks, epochs, steps_per_epoch or len(source), verbose)
        engine = self._engine(objectives) if method is None else self._semi_supervised_engine(objectives, unlabeled,
                                                                                                method)
        engine.fit(source, callback_list, epochs, initial_epoch, steps_per_epoch, validation, validation_freq,
                   validation_steps)
        self.optimizer.finalize_variable_values()  # with use_ema, the model keeps the averaged weights
        return self.history

    def _fit_callbacks(self, callbacks: list | None, epochs: int, steps: int, verbose: int | str) -> CallbackList:
        """The user's callbacks plus TerminateOnNaN, the progress bar and a fresh History."""
        self.stopped_on_nonfinite_loss = False
        self.history = History()
        verbose = resolve_verbose(verbose)
        replicated = distribution_api.active() is not None
        # replicas check the loss at epoch ends only, where it is reduced: they all decide alike
        nan_check = TerminateOnNaN(check_interval=math.inf) if replicated else TerminateOnNaN()
        extra = [] if any(isinstance(c, TerminateOnNaN) for c in callbacks or []) else [nan_check]
        progress = [ProgbarLogger(verbose)] if verbose else []
        chosen = extra + list(callbacks or []) + progress + [self.history]
        return CallbackList(placement.rank_callbacks(chosen) if replicated else chosen, self,
                            {"epochs": epochs, "steps": steps, "verbose": verbose})

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: int | str = "auto",
                 sample_weight: Any = None, steps: int | None = None, callbacks: list | None = None,
                 return_dict: bool = False, sensitive_features: Any = None) -> Any:
        """Loss and metrics on `x` `(samples, ...)` against `y`, in inference mode.

        Returns: the loss and each metric as a list (the loss alone as a float when there are no
        metrics), or a dict of them with `return_dict=True`. With `sensitive_features` (one group
        value per sample; array inputs only): `ember.fairness.GroupMetrics`, the loss and metrics
        overall and within each group, with `difference()` and `ratio()`.
        """
        self._require_compiled("evaluate")
        if sensitive_features is not None:
            return fairness.evaluate_by_group(self, x, y, sensitive_features, sample_weight=sample_weight,
                                              batch_size=batch_size, verbose=0, steps=steps, callbacks=callbacks)
        source, targets = self._prepare(x, y, sample_weight, batch_size, False, steps)
        objectives = self._objectives_for(targets)
        self._place()
        objectives.to(config.get_device())
        callback_list = CallbackList(callbacks or [], self, {"steps": steps or len(source)})
        results = self._engine(objectives).evaluate(source, callback_list, steps)
        if resolve_verbose(verbose) and runtime.is_primary():
            print(format_logs(results), flush=True)
        if return_dict:
            return results
        values = list(results.values())
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------- predict
    def predict(self, x: Any, batch_size: int | None = None, verbose: int | str = "auto", steps: int | None = None,
                callbacks: list | None = None) -> Any:
        """Outputs for `x` `(samples, ...)` in inference mode, as NumPy arrays `(samples, ...)` (a list
        or dict of them for several outputs), in the order of the samples."""
        source, _ = self._prepare(x, None, None, batch_size, False, steps)
        self._place()
        callback_list = CallbackList(callbacks or [], self, {"steps": steps or len(source)})
        outputs = self._engine(getattr(self, "_objectives", None)).predict(source, callback_list, steps)
        return placement.gathered_predictions(outputs) if distribution_api.active() is not None else outputs

    # ---------------------------------------------------------------- on batches
    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, class_weight: dict | None = None,
                       return_dict: bool = False) -> Any:
        """One optimizer step on the whole batch `x` `(batch, ...)`, `y`; returns the running loss and
        metrics (not reset between calls; `reset_metrics()` does) as a list, a float, or a dict."""
        self._require_compiled("train_on_batch")
        if class_weight is not None:
            sample_weight = preparation.class_sample_weights(y, class_weight, sample_weight)
        source, targets = self._prepare(x, y, sample_weight, preparation.batch_length(x), False, None)
        objectives = self._objectives_for(targets)
        self._place()
        objectives.to(config.get_device())
        self.optimizer.build(self.parameters())
        engine = self._engine(objectives)
        engine.train_on_batches(source)
        return self._batch_results(engine.objectives, return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False) -> Any:
        """Loss and metrics for the one batch `x` `(batch, ...)`, `y`, in inference mode, without training."""
        self._require_compiled("test_on_batch")
        source, targets = self._prepare(x, y, sample_weight, preparation.batch_length(x), False, None)
        objectives = self._objectives_for(targets)
        self._place()
        objectives.to(config.get_device())
        engine = self._engine(objectives)
        engine.evaluate(source, CallbackList([], self, {"steps": 1}))
        return self._batch_results(engine.objectives, return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        """Outputs for the one batch `x` `(batch, ...)`, as NumPy `(batch, ...)`."""
        return self.predict(x, batch_size=preparation.batch_length(x), verbose=0)

    def _batch_results(self, trackers: Any, return_dict: bool) -> Any:
        results = to_python(trackers.results())
        if return_dict:
            return results
        values = list(results.values())
        return values[0] if len(values) == 1 else values

    def reset_metrics(self) -> None:
        """Zeroes the running loss and metrics."""
        if self._objectives is not None:
            self._objectives.reset()

    @property
    def metrics(self) -> list[metrics_module.Metric]:
        """The trackers that make the logs, as Keras lists them: the loss tracker, the per-output
        losses and the compiled metrics (once the first fit or evaluate resolved them; the loss
        tracker where compile() got a loss or the model overrides compute_loss), then the `Metric` objects the model holds as
        attributes (a custom `train_step`'s trackers). `fit` resets them all at each epoch."""
        compiled = []
        if self._objectives is not None:
            compiled = self._objectives.all_trackers()
            own_loss = type(self).compute_loss is not Model.compute_loss
            if all(loss is None for loss in self._objectives.losses) and not own_loss:
                compiled = compiled[1:]  # no loss compiled or computed by the model: no "loss" tracker
        own = [value for value in vars(self).values() if isinstance(value, metrics_module.Metric)]
        return compiled + [metric for metric in own if all(metric is not other for other in compiled)]

    # ----------------------------------------------------------- Keras 3's steps
    def train_step(self, data: Any) -> dict[str, Any]:
        """One training step as Keras 3 runs it on torch; `data` is `x`, `(x, y)` or `(x, y, sample_weight)`.

        Forward (training mode), `compute_loss`, the loss tracker, backward, `optimizer.apply` on the
        trainable weights, then `compute_metrics`, whose dict of scalars becomes the logs. Override it
        (or `test_step`, `predict_step`, `compute_loss`, `compute_metrics`) to change what `fit`,
        `evaluate` and `predict` do; the built-in fast steps compute the same as this one.
        """
        x, y, sample_weight = unpack(data)
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        self._objectives.loss_tracker.update(loss, batch_size_of(x))
        weights = self.trainable_weights
        if loss.requires_grad and weights:
            loss.backward()
            with torch.no_grad():
                self.optimizer.apply([weight.grad for weight in weights], weights)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data: Any) -> dict[str, Any]:
        """One evaluation step (inference mode, no gradients): loss and metrics, as `train_step`."""
        x, y, sample_weight = unpack(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._objectives.loss_tracker.update(loss, batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data: Any) -> Any:
        """The outputs for one batch of `predict` (inference mode): `self(x, training=False)`."""
        x, _, _ = unpack(data)
        return self(x, training=False)

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None, sample_weight: Any = None,
                     training: bool = True) -> torch.Tensor:
        """The scalar loss to minimize: the compiled loss(es) of `y_pred` against `y` (weighted by
        `sample_weight`), plus the regularization penalties and the losses layers added (`add_loss`)."""
        if self._objectives is None:
            raise RuntimeError("compute_loss() works inside fit/evaluate (which resolve the compiled losses); "
                               "call model.compile(...) and fit the model, or compute the loss yourself.")
        return self._objectives.compute_loss(y, y_pred, sample_weight, extra_losses(loss_contributing_layers(self)))

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> dict[str, Any]:
        """Updates the compiled metrics with one batch and returns `get_metrics_result()`."""
        if self._objectives is not None and y is not None:
            self._objectives.update_metrics(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict[str, Any]:
        """`{name: result}` of every tracker in `metrics` (the logs a step returns)."""
        return {metric.name: metric.result() for metric in self.metrics}

    @property
    def metrics_names(self) -> list[str]:
        return list(self._objectives.results()) if self._objectives is not None else []

    # ---------------------------------------------------------------- generation
    def generate(self, prompt: Any, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, seed: int | None = None, use_cache: bool = True) -> Any:
        """The prompt's token ids followed by `max_new_tokens` sampled ones (see `ember.generation.generate`)."""
        from ember.generation import generate

        return generate(self, prompt, max_new_tokens, temperature, top_k, top_p, seed, use_cache)

    # ------------------------------------------------------------------ explain
    def explain(self, x: Any, method: str = "integrated_gradients", target: Any = None, **options: Any) -> Any:
        """Attributions of this model's predictions for `x` (see `ember.explain.attribute`)."""
        from ember.explain import attribute

        return attribute(self, x, target=target, method=method, **options)

    # ------------------------------------------------------------------ summary
    def summary(self, line_length: int | None = None, positions: Any = None, print_fn: Any = None,
                expand_nested: bool = False, show_trainable: bool = False) -> None:
        """Prints each layer with its output shape and parameter count, then the totals (Keras's
        arguments: `positions` are the column ends, `print_fn` receives the text instead of `print`,
        `expand_nested` lists nested models' layers, `show_trainable` adds a Trainable column)."""
        (print_fn or print)(summary_text(self, line_length or 80, positions, expand_nested, show_trainable))

    # -------------------------------------------------------------------- saving
    def export(self, filepath: str | os.PathLike, format: str = "onnx", input_signature: Any = None,  # noqa: A002
               verbose: bool = False, **kwargs: Any) -> str:
        """Writes the model for inference without ember: `format="onnx"` (ONNX, dynamic batch; needs
        `pip install 'ember[export]'`) or `"torch"` (a `torch.export` program). Returns the path."""
        return export_model(self, filepath, format, input_signature, verbose, **kwargs)

    def save(self, filepath: str | os.PathLike, overwrite: bool = True, include_optimizer: bool = True) -> None:
        """Writes architecture (JSON), weights and optimizer state (safetensors) to one zip file
        (on rank 0 alone under DataParallel: the replicas hold the same weights)."""
        if getattr(self, "_sharded", False):  # every rank gathers the sharded weights; rank 0 writes
            state = placement.whole_state(self)
            if runtime.is_primary():
                saving.save_model(self, filepath, overwrite=overwrite, include_optimizer=False, state=state)
        elif runtime.is_primary():
            saving.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath: str | os.PathLike, overwrite: bool = True) -> None:
        """Writes the weights alone to a safetensors file (on rank 0 alone under DataParallel)."""
        if runtime.is_primary():
            saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: str | os.PathLike) -> None:
        """Loads weights written by `save_weights` (or from a full model file)."""
        saving.load_weights(self, filepath)

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as a JSON string, for `ember.models.model_from_json` (weights not included);
        keyword arguments go to `json.dumps`."""
        return saving.model_to_json(self, **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "trainable": self.trainable}

    def get_compile_config(self) -> dict[str, Any] | None:
        """The `compile` arguments as JSON values, for saving (None when not compiled)."""
        return self._settings.to_config(self.optimizer) if self.compiled else None

    def compile_from_config(self, config: dict[str, Any], saved_optimizers: dict[str, Any]) -> None:
        """Compiles again from `get_compile_config()`'s output and the optimizers read from a file."""
        self.compile(optimizer=saved_optimizers.get("optimizer", config["optimizer"]),
                     **CompileSettings.arguments_from_config(config))

    def optimizers_to_save(self) -> dict[str, tuple[Any, Any]]:
        """{file key: (optimizer, the parameters it trains)}."""
        return {"optimizer": (self.optimizer, self.parameters())}


def _specs_of(x: Any) -> Any:
    return map_structure(lambda t: shapes.TensorSpec((None,) + tuple(t.shape[1:]), t.dtype), x)


def _functional_arguments(args: tuple, kwargs: dict) -> bool:
    """Whether `Model.__init__` got the functional API's `(inputs, outputs)` (symbolic tensors)."""
    given = list(args[:2]) + [kwargs[key] for key in ("inputs", "outputs") if key in kwargs]
    return len(given) >= 2 and all(first_leaf(value, lambda leaf: isinstance(leaf, SymbolicTensor)) is not None
                                   for value in given[:2])
