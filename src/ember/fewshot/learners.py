"""Few-shot learners trained on episodes through `compile`/`fit`: `PrototypicalNetwork` (Snell et
al. 2017) and `MAML` (Finn et al. 2017).

Both take the episodes of an `EpisodeSampler`: `fit(episodes, epochs=...)` trains one episode per
step (loss and query accuracy in History), `evaluate(episodes)` returns the mean query accuracy
with its 95% confidence interval, and `adapt(support_x, support_y)` returns a classifier for a new
task from a handful of labelled samples.

    >>> learner = PrototypicalNetwork(encoder)            # encoder: images -> (batch, features)
    >>> learner.compile(ember.optimizers.Adam(1e-3))
    >>> learner.fit(EpisodeSampler(x, y, n_way=20, k_shot=1, num_queries=5, num_episodes=200), epochs=10)
    >>> learner.evaluate(EpisodeSampler(x_new, y_new, 5, 1, 15, num_episodes=600, seed=0))
    {'loss': 0.21, 'accuracy': 0.95, 'accuracy_ci95': 0.004, 'episodes': 600}
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call

from ember import losses
from ember import metrics as metrics_module
from ember.data import arrays
from ember.fewshot.episodes import EpisodeSampler, mean_and_confidence
from ember.layers import shapes
from ember.layers.serialization import deserialize_layer, serialize_layer
from ember.models.model import Model
from ember.training.custom_step import unpack


class FewShotLearner(Model):
    """What both learners share: the episode step, its trackers, episode evaluation, saving."""

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.loss_tracker = metrics_module.Mean(name="loss")
        self.accuracy_tracker = metrics_module.Mean(name="accuracy")

    def compile(self, optimizer: Any = "adam", **kwargs: Any) -> None:  # type: ignore[override]
        """Sets the optimizer; the loss is the query samples' cross-entropy (`loss=` is refused)."""
        if kwargs.get("loss") is not None:
            raise ValueError(f"{type(self).__name__} trains on its episodes' query cross-entropy; give compile() "
                             "the optimizer only.")
        super().compile(optimizer=optimizer, **kwargs)

    def query_log_probabilities(self, support_x: torch.Tensor, support_onehot: torch.Tensor,
                                query_x: torch.Tensor, training: bool) -> torch.Tensor:
        """`(queries, n_way)` log-probabilities of the query samples given the support set."""
        raise NotImplementedError

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        support_x, support_onehot, query_x = _episode_inputs(inputs)
        return self.query_log_probabilities(support_x, support_onehot, query_x, self.training).exp()

    def _episode_loss(self, data: Any, training: bool) -> dict[str, torch.Tensor]:
        inputs, query_y, _ = unpack(data)
        support_x, support_onehot, query_x = _episode_inputs(inputs)
        log_probabilities = self.query_log_probabilities(support_x, support_onehot, query_x, training)
        loss = F.nll_loss(log_probabilities, query_y.long())
        accuracy = (log_probabilities.argmax(dim=-1) == query_y).float().mean()
        return {"loss": loss, "accuracy": accuracy, "queries": len(query_y)}

    def _track(self, parts: dict) -> dict[str, torch.Tensor]:
        self.loss_tracker.update_with_batch_mean(parts["loss"].detach(), parts["queries"])
        self.accuracy_tracker.update_with_batch_mean(parts["accuracy"], parts["queries"])
        return {"loss": self.loss_tracker.result(), "accuracy": self.accuracy_tracker.result()}

    def test_step(self, data: Any) -> dict[str, torch.Tensor]:
        with torch.enable_grad():  # MAML adapts with gradients even while it is evaluated
            return self._track(self._episode_loss(data, training=False))

    def evaluate(self, x: Any = None, y: Any = None, verbose: Any = "auto", **kwargs: Any) -> Any:  # type: ignore[override]
        """On an `EpisodeSampler`: `{"loss", "accuracy", "accuracy_ci95", "episodes"}`, the means over
        its episodes and the half-width of the accuracy's 95% confidence interval."""
        if not isinstance(x, EpisodeSampler):
            return super().evaluate(x, y, verbose=verbose, **kwargs)
        self._place()
        device = next(self.parameters()).device
        was_training = self.training
        self.eval()
        accuracies, episode_losses = [], []
        for index in range(len(x)):
            (support_x, support_onehot, query_x), query_y = x[index]
            batch = [torch.as_tensor(value).to(device) for value in (support_x, support_onehot, query_x)]
            with torch.enable_grad():
                parts = self._episode_loss((batch, torch.as_tensor(query_y).to(device)), training=False)
            accuracies.append(float(parts["accuracy"]))
            episode_losses.append(float(parts["loss"].detach()))
        self.train(was_training)
        accuracy, interval = mean_and_confidence(accuracies)
        return {"loss": float(np.mean(episode_losses)), "accuracy": accuracy, "accuracy_ci95": interval,
                "episodes": len(accuracies)}


class PrototypicalNetwork(FewShotLearner):
    """Each class is the mean embedding (prototype) of its support samples; a query's class
    probabilities are a softmax over minus its squared Euclidean distances to the prototypes.

    Args:
        encoder: a model (or layer) from samples to embeddings `(batch, features)`.
    """

    def __init__(self, encoder: Any, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.encoder = encoder

    @property
    def layers(self) -> list:
        return [self.encoder]

    def query_log_probabilities(self, support_x: torch.Tensor, support_onehot: torch.Tensor,
                                query_x: torch.Tensor, training: bool) -> torch.Tensor:
        previous = self.training
        self.train(training)
        try:
            embedded = self.encoder(torch.cat([support_x, query_x])).flatten(1)  # (support + queries, features)
        finally:
            self.train(previous)
        prototypes = prototypes_of(embedded[:len(support_x)], support_onehot)  # (n_way, features)
        return F.log_softmax(-torch.cdist(embedded[len(support_x):], prototypes).square(), dim=-1)

    def train_step(self, data: Any) -> dict[str, torch.Tensor]:
        self.zero_grad()
        parts = self._episode_loss(data, training=True)
        parts["loss"].backward()
        weights = self.trainable_weights
        with torch.no_grad():
            self.optimizer.apply([weight.grad for weight in weights], weights)
        return self._track(parts)

    def adapt(self, support_x: Any, support_y: Any) -> "PrototypeClassifier":
        """A classifier over the classes of `support_y` (ids 0..n-1), by nearest prototype."""
        support_x, onehot = _support_arrays(support_x, support_y)
        self._place()
        device = next(self.parameters()).device
        was_training = self.training
        self.eval()
        with torch.no_grad():
            prototypes = prototypes_of(self.encoder(support_x.to(device)).flatten(1), onehot.to(device))
        self.train(was_training)
        return PrototypeClassifier(self.encoder, prototypes)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "encoder": serialize_layer(self.encoder)}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> "PrototypicalNetwork":
        config = dict(config)
        return cls(deserialize_layer(config.pop("encoder"), custom_objects), **config)


class PrototypeClassifier(Model):
    """The classifier `PrototypicalNetwork.adapt` returns: class probabilities `(batch, n_way)`
    from the distances of a sample's embedding to fixed prototypes `(n_way, features)`."""

    def __init__(self, encoder: Any, prototypes: torch.Tensor, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.encoder = encoder
        self.register_buffer("prototypes", torch.as_tensor(prototypes, dtype=torch.float32))

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        distances = torch.cdist(self.encoder(inputs).flatten(1), self.prototypes).square()
        return torch.softmax(-distances, dim=-1)


class MAML(FewShotLearner):
    """Model-agnostic meta-learning: the model's weights are learned so that `inner_steps` steps of
    gradient descent on a new task's support set give good predictions on its queries.

    Args:
        model: a classifier with `n_way` outputs (logits or a softmax), e.g. Finn et al.'s 4 conv blocks.
        inner_learning_rate: the step size of the inner (adaptation) loop.
        inner_steps: adaptation steps in training; `evaluation_inner_steps` in evaluation and `adapt`
            (default: the same).
        first_order: drop the second-order terms (FOMAML): cheaper, usually a little worse.
        meta_batch_size: tasks (episodes) whose meta-gradients are averaged for each outer update.
    The inner loop runs the model functionally (`torch.func.functional_call`) on adapted copies of
    its weights, so the outer gradient flows through the adaptation (second order by default).
    """

    def __init__(self, model: Any, inner_learning_rate: float = 0.4, inner_steps: int = 1, first_order: bool = False,
                 meta_batch_size: int = 1, evaluation_inner_steps: int | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        if inner_learning_rate <= 0 or not isinstance(inner_steps, int) or inner_steps < 1:
            raise ValueError(f"inner_learning_rate must be > 0 and inner_steps a positive integer; got "
                             f"{inner_learning_rate!r} and {inner_steps!r}.")
        if not isinstance(meta_batch_size, int) or meta_batch_size < 1:
            raise ValueError(f"meta_batch_size must be a positive integer; got {meta_batch_size!r}.")
        self.model, self.inner_learning_rate, self.inner_steps = model, float(inner_learning_rate), inner_steps
        self.first_order, self.meta_batch_size = bool(first_order), meta_batch_size
        self.evaluation_inner_steps = evaluation_inner_steps or inner_steps
        self._tasks_in_batch = 0

    @property
    def layers(self) -> list:
        return [self.model]

    def adapted_weights(self, support_x: torch.Tensor, support_y: torch.Tensor, steps: int,
                        create_graph: bool) -> dict[str, torch.Tensor]:
        """The model's weights after `steps` gradient steps on the support set (names as in
        `named_parameters`), differentiable with respect to the original weights when `create_graph`."""
        if not getattr(self.model, "built", True):
            self.model(support_x[:1])  # a lazily built model makes its weights first
        weights = {name: weight for name, weight in self.model.named_parameters() if weight.requires_grad}
        buffers = dict(self.model.named_buffers())
        for _ in range(steps):
            outputs = functional_call(self.model, {**weights, **buffers}, (support_x,))
            loss = F.nll_loss(losses.log_probabilities(outputs, from_logits=_is_logits(outputs)), support_y)
            gradients = torch.autograd.grad(loss, list(weights.values()), create_graph=create_graph)
            weights = {name: weight - self.inner_learning_rate * gradient
                       for (name, weight), gradient in zip(weights.items(), gradients)}
        return weights

    def query_log_probabilities(self, support_x: torch.Tensor, support_onehot: torch.Tensor,
                                query_x: torch.Tensor, training: bool) -> torch.Tensor:
        if shapes.is_shape_inference((query_x,)):  # ember learning the shapes: build the model, no adaptation
            outputs = self.model(query_x)
            return losses.log_probabilities(outputs, from_logits=_is_logits(outputs))
        support_y = support_onehot.argmax(dim=-1)
        steps = self.inner_steps if training else self.evaluation_inner_steps
        previous = self.model.training
        self.model.train(True)  # batch statistics in the inner loop and on the queries, as in MAML
        try:
            weights = self.adapted_weights(support_x, support_y, steps, create_graph=training and not self.first_order)
            outputs = functional_call(self.model, {**weights, **dict(self.model.named_buffers())}, (query_x,))
        finally:
            self.model.train(previous)
        return losses.log_probabilities(outputs, from_logits=_is_logits(outputs))

    def train_step(self, data: Any) -> dict[str, torch.Tensor]:
        if self._tasks_in_batch == 0:
            self.zero_grad()
        parts = self._episode_loss(data, training=True)
        (parts["loss"] / self.meta_batch_size).backward()
        self._tasks_in_batch += 1
        if self._tasks_in_batch == self.meta_batch_size:
            weights = self.trainable_weights
            with torch.no_grad():
                self.optimizer.apply([weight.grad for weight in weights], weights)
            self._tasks_in_batch = 0
        return self._track(parts)

    def adapt(self, support_x: Any, support_y: Any, steps: int | None = None) -> Any:
        """A copy of the model fine-tuned on the support set (`steps`, default
        `evaluation_inner_steps`, gradient steps of `inner_learning_rate`)."""
        support_x, onehot = _support_arrays(support_x, support_y)
        self._place()
        device = next(self.parameters()).device
        with torch.enable_grad():
            weights = self.adapted_weights(support_x.to(device), onehot.argmax(dim=-1).to(device),
                                           steps or self.evaluation_inner_steps, create_graph=False)
        adapted = copy.deepcopy(self.model)
        with torch.no_grad():
            for name, weight in adapted.named_parameters():
                if name in weights:
                    weight.copy_(weights[name])
        return adapted

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "model": serialize_layer(self.model),
                "inner_learning_rate": self.inner_learning_rate, "inner_steps": self.inner_steps,
                "first_order": self.first_order, "meta_batch_size": self.meta_batch_size,
                "evaluation_inner_steps": self.evaluation_inner_steps}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> "MAML":
        config = dict(config)
        return cls(deserialize_layer(config.pop("model"), custom_objects), **config)


def prototypes_of(embedded: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
    """Class means `(n_way, features)` of support embeddings `(support, features)`."""
    return (onehot.T @ embedded) / onehot.sum(dim=0)[:, None]


def _is_logits(outputs: torch.Tensor) -> bool:
    """Whether a classifier's outputs are logits: not a softmax layer's (which keeps its logits)."""
    return getattr(outputs, "_ember_logits_kind", None) != "softmax"


def _episode_inputs(inputs: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    if not isinstance(inputs, (list, tuple)) or len(inputs) != 3:
        raise ValueError("A few-shot learner takes episodes: [support_x, support_onehot, query_x] (an EpisodeSampler "
                         f"yields them); got {type(inputs).__name__}.")
    return inputs[0], inputs[1].float(), inputs[2]


def _support_arrays(support_x: Any, support_y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """`(support_x, one-hot labels)` from class ids 0..n-1 (or one-hot rows)."""
    x = arrays.to_tensor(support_x, "support_x")
    y = arrays.to_tensor(support_y, "support_y", float_type=False)
    if y.ndim == 2:
        y = y.argmax(dim=1)
    if len(y) != len(x):
        raise ValueError(f"support_y must label each support sample: {len(x)} samples, {len(y)} labels.")
    classes = int(y.max()) + 1
    if sorted(set(y.tolist())) != list(range(classes)):
        raise ValueError(f"support_y must use every class id from 0 to n-1; got {sorted(set(y.tolist()))}.")
    return x, F.one_hot(y, classes).float()
