"""The hand-derived dense-stack step gives autograd's losses, metrics and weights, and leaves every
model, loss or batch it does not cover to autograd."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

import ember
from ember import layers, losses, regularizers
from ember.training.dense_stack import DenseStackStep
from ember.training.objectives import Objectives


def _data(targets: str):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 6)).astype("float32")
    labels = (x[:, 0] + x[:, 1] > 0).astype("int64") + (x[:, 2] > 0.5)
    y = {"sparse": labels, "one_hot": np.eye(3, dtype="float32")[labels],
         "binary": (labels > 0).astype("float32"), "regression": x[:, :2].sum(1, keepdims=True)}[targets]
    return x, y


def _train(jit_compile, make_layers, loss, targets, optimizer="adam", loss_weights=None, epochs=3, freeze=None):
    x, y = _data(targets)
    ember.utils.set_random_seed(7)
    model = ember.Sequential([layers.Input((6,)), *make_layers()])
    if freeze is not None:
        model.layers[freeze].trainable = False
    metrics = ["mae"] if targets == "regression" else ["accuracy"]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compile, loss_weights=loss_weights)
    ember.utils.set_random_seed(11)  # the same shuffling and dropout masks on both paths
    history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0).history
    return model, history


CASES = {
    "relu-softmax, sparse": (lambda: [layers.Dense(16, activation="relu"), layers.Dense(3, activation="softmax")],
                             "sparse_categorical_crossentropy", "sparse", {}),
    "tanh-sigmoid-dropout, one-hot": (
        lambda: [layers.Dense(8, activation="tanh"), layers.Dropout(0.3), layers.Dense(8),
                 layers.Activation("sigmoid"), layers.Dense(3, activation="softmax")],
        "categorical_crossentropy", "one_hot", {"optimizer": "rmsprop"}),
    "logits with label smoothing": (
        lambda: [layers.Dense(16, activation="relu"), layers.Dense(3)],
        losses.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=0.1), "sparse", {}),
    "one-hot with label smoothing": (
        lambda: [layers.Dense(16, activation="relu"), layers.Dense(3, activation="softmax")],
        losses.CategoricalCrossentropy(label_smoothing=0.2), "one_hot", {"loss_weights": 0.5}),
    "binary": (lambda: [layers.Dense(8, activation="relu"), layers.Dense(1, activation="sigmoid")],
               "binary_crossentropy", "binary", {"optimizer": "sgd"}),
    "binary from logits, smoothed": (
        lambda: [layers.Dense(8, activation="relu"), layers.Dense(1)],
        losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1), "binary", {}),
    "regression, L1/L2 penalties": (
        lambda: [layers.Dense(8, activation="relu", kernel_regularizer=regularizers.l1_l2(0.01, 0.02),
                              bias_regularizer="l2"), layers.Dense(1, use_bias=False)],
        "mse", "regression", {"optimizer": "adamw"}),
    "softmax as its own layer": (
        lambda: [layers.Dense(16, activation="relu"), layers.Dense(3), layers.Activation("softmax")],
        "sparse_categorical_crossentropy", "sparse", {}),
    # (no bias before batch normalization: its gradient is zero up to rounding, which Adam would
    # turn into learning-rate-sized steps that differ between any two ways of computing it)
    "batch normalization, dropout": (
        lambda: [layers.Dense(16, use_bias=False), layers.BatchNormalization(), layers.Activation("relu"),
                 layers.Dropout(0.2),
                 layers.Dense(8, activation="tanh"), layers.BatchNormalization(center=False, momentum=0.9),
                 layers.Dense(3, activation="softmax")],
        "sparse_categorical_crossentropy", "sparse", {}),
    "frozen batch normalization (moving statistics)": (
        lambda: [layers.Dense(16, activation="relu"), layers.BatchNormalization(scale=False),
                 layers.Dense(1, activation="sigmoid")],
        "binary_crossentropy", "binary", {"freeze": 1}),
    "softmax in the middle, frozen first layer": (
        lambda: [layers.Dense(8, activation="softmax"), layers.Dense(3, activation="softmax")],
        "sparse_categorical_crossentropy", "sparse", {"freeze": 0}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hand_derived_step_matches_autograd(case):
    make_layers, loss, targets, options = CASES[case]
    eager, eager_history = _train(False, make_layers, loss, targets, **options)
    fast, fast_history = _train("auto", make_layers, loss, targets, **options)
    assert fast.make_step().kind == "hand_derived"  # it really took the fast path
    assert eager.make_step().kind == "eager"
    for key in eager_history:
        np.testing.assert_allclose(fast_history[key], eager_history[key], rtol=2e-5, atol=1e-6, err_msg=key)
    for fast_weight, eager_weight in zip(fast.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(fast_weight, eager_weight, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("case", list(CASES))
def test_hand_derived_gradients_and_loss_are_autograds(case, monkeypatch):
    monkeypatch.setattr(ember.config, "_thread_tuning", False)  # the hand-derived step itself, unwrapped
    make_layers, loss, targets, options = CASES[case]
    x, y = _data(targets)
    model = ember.Sequential([layers.Input((6,)), *make_layers()])
    if options.get("freeze") is not None:
        model.layers[options["freeze"]].trainable = False
    model.compile(options.get("optimizer", "adam"), loss, loss_weights=options.get("loss_weights"))
    model.fit(x[:32], y[:32], epochs=1, batch_size=32, verbose=0)  # builds the weights and the steps
    step = model.make_step()
    assert step.kind == "hand_derived"
    batch, trainable = (torch.from_numpy(x[:32]), torch.from_numpy(y[:32]), None), model.trainable_weights
    model.train()
    ember.utils.set_random_seed(5)  # the same dropout mask for both
    expected_loss, _ = step.forward_and_loss(*batch)  # the autograd step's loss
    expected = torch.autograd.grad(expected_loss, trainable)
    step.stack.optimizer = SimpleNamespace(step=lambda: None)  # keep the gradients, move nothing
    step.objectives.reset()
    ember.utils.set_random_seed(5)
    with torch.no_grad():
        assert step.stack.train(batch)
    assert float(step.objectives.loss_tracker.result()) == pytest.approx(float(expected_loss.detach()), rel=1e-6)
    for weight, gradient in zip(trainable, expected):
        torch.testing.assert_close(weight.grad, gradient, rtol=1e-5, atol=1e-7)


def test_flattened_images_and_a_partial_last_batch():
    rng = np.random.default_rng(0)
    x, y = rng.random((70, 4, 3)).astype("float32"), rng.integers(0, 5, 70)  # 70 = 2 x 32 + 6

    def train(jit_compile):
        ember.utils.set_random_seed(3)
        model = ember.Sequential([layers.Input((4, 3)), layers.Flatten(), layers.Dense(12, activation="relu"),
                                  layers.Dense(5, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=jit_compile)
        return model.fit(x, y, epochs=2, batch_size=32, verbose=0).history["loss"]

    np.testing.assert_allclose(train("auto"), train(False), rtol=1e-5)


def _step_for(model, loss="sparse_categorical_crossentropy"):
    return DenseStackStep.for_model(model, Objectives(loss, None, None, ["output"]), ember.optimizers.Adam())


@pytest.mark.parametrize("make, why", [
    (lambda: _step_for(ember.Sequential([layers.Input((6,)), layers.Dense(4, activation="gelu"),
                                         layers.Dense(3, activation="softmax")])), "an activation without a rule"),
    (lambda: _step_for(ember.Sequential([layers.Input((6,)), layers.Dense(3, activation="softmax")]), "mae"),
     "a loss without a head"),
    (lambda: _step_for(ember.Sequential([layers.Input((6,)), layers.Dense(3)])), "softmax loss on a linear output"),
    (lambda: _step_for(ember.Sequential([layers.Input((5, 6)), layers.Dense(3, activation="softmax")])),
     "Dense on a sequence"),
    (lambda: _step_for(ember.Sequential([layers.Input((6,)), layers.LayerNormalization(),
                                         layers.Dense(3, activation="softmax")])), "a layer without a stage"),
    (lambda: _step_for(ember.Sequential([layers.Input((5, 6)), layers.BatchNormalization(), layers.Flatten(),
                                         layers.Dense(3, activation="softmax")])), "BatchNormalization on a sequence"),
    (lambda: _step_for(ember.Sequential([layers.Input((6,)), layers.BatchNormalization(gamma_regularizer="l2"),
                                         layers.Dense(3, activation="softmax")])), "a regularized BatchNormalization"),
    (lambda: _step_for(ember.Sequential([layers.Input((6,)),
                                         layers.Dense(3, activation="softmax", activity_regularizer="l2")])),
     "an activity regularizer"),
])
def test_models_it_does_not_cover_go_to_autograd(make, why):
    assert make() is None, why


def test_subclassed_layers_hooks_and_branching_functional_models_go_to_autograd():
    class ScaledDense(layers.Dense):
        def forward(self, inputs):
            return super().forward(inputs) * 2

    inputs = layers.Input((6,))
    hidden = layers.Dense(6, activation="relu")(inputs)
    residual = ember.Model(inputs, layers.Dense(3, activation="softmax")(layers.Add()([inputs, hidden])))
    hooked = ember.Sequential([layers.Input((6,)), layers.Dense(3, activation="softmax")])
    hooked.layers[0].register_forward_hook(lambda *args: None)
    subclassed = ember.Sequential([layers.Input((6,)), ScaledDense(3, activation="softmax")])
    plain = ember.Sequential([layers.Input((6,)), layers.Dense(3, activation="softmax")])
    assert _step_for(plain) is not None
    for model in (residual, hooked, subclassed):
        assert _step_for(model) is None


def test_a_functional_chain_takes_the_hand_derived_path():
    x, y = _data("sparse")

    def train(jit_compile):
        ember.utils.set_random_seed(6)
        inputs = layers.Input((6,))
        hidden = layers.Dropout(0.2)(layers.Dense(12, activation="relu")(inputs))
        model = ember.Model(inputs, layers.Dense(3, activation="softmax")(hidden))
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=jit_compile)
        ember.utils.set_random_seed(8)
        return model, model.fit(x, y, epochs=2, batch_size=32, verbose=0).history

    fast, fast_history = train("auto")
    assert fast.make_step().kind == "hand_derived"
    eager_history = train(False)[1]
    for key in eager_history:
        np.testing.assert_allclose(fast_history[key], eager_history[key], rtol=1e-5, err_msg=key)


def test_sample_weights_and_mixed_precision_use_autograd_with_the_same_results(monkeypatch):
    monkeypatch.setattr(ember.config, "_thread_tuning", False)  # the hand-derived step itself, unwrapped
    x, y = _data("sparse")
    weights = np.linspace(0.5, 1.5, len(x)).astype("float32")

    def train(jit_compile, **fit_arguments):
        ember.utils.set_random_seed(2)
        model = ember.Sequential([layers.Input((6,)), layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", jit_compile=jit_compile)
        return model, model.fit(x, y, epochs=2, verbose=0, **fit_arguments).history["loss"]

    fast, fast_losses = train("auto", sample_weight=weights)
    np.testing.assert_allclose(fast_losses, train(False, sample_weight=weights)[1], rtol=1e-6)
    step = fast.make_step()
    assert step.kind == "hand_derived" and step.hand_derived_steps == 0  # built, but these batches declined
    fast.fit(x, y, epochs=1, verbose=0)
    assert step.hand_derived_steps == 7  # without sample weights: every batch of 200 (7 of them)
    bfloat16 = ember.Sequential([layers.Input((6,)), layers.Dense(3, activation="softmax")])
    bfloat16.compile("adam", "sparse_categorical_crossentropy", precision="mixed_bfloat16")
    bfloat16.fit(x, y, epochs=1, verbose=0)
    assert bfloat16.make_step().kind == "eager"


def test_a_layer_added_after_training_gets_a_new_step(monkeypatch):
    monkeypatch.setattr(ember.config, "_thread_tuning", False)  # the hand-derived step itself, unwrapped
    x, y = _data("sparse")
    model = ember.Sequential([layers.Input((6,)), layers.Dense(8, activation="relu")])
    model.compile("adam", "mse")
    model.fit(x, np.zeros((len(x), 8), "float32"), epochs=1, verbose=0)
    first = model.make_step().stack
    model.add(layers.Dense(3, activation="softmax"))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, verbose=0).history
    step = model.make_step().stack
    assert step is not first and len(step.stages) == 2
    assert history["loss"][-1] < history["loss"][0]


def test_learning_rate_callbacks_and_stopping_mid_epoch_work_on_the_hand_derived_path():
    x, y = _data("sparse")

    def train(jit_compile):
        ember.utils.set_random_seed(4)
        model = ember.Sequential([layers.Input((6,)), layers.Dense(8, activation="relu"),
                                  layers.Dense(3, activation="softmax")])
        model.compile(ember.optimizers.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=jit_compile)
        steps = []
        schedule = ember.callbacks.LearningRateScheduler(lambda epoch, rate: 0.1 / (epoch + 1))
        stop = ember.callbacks.LambdaCallback(on_train_batch_end=lambda step, logs: (
            steps.append(step), setattr(model, "stop_training", len(steps) == 10)))
        history = model.fit(x, y, epochs=5, batch_size=32, callbacks=[schedule, stop], verbose=0).history
        return model, history, len(steps)

    fast, fast_history, fast_steps = train("auto")
    eager, eager_history, eager_steps = train(False)
    assert fast_steps == eager_steps == 10 and len(fast_history["loss"]) == 2  # 7 steps an epoch: stopped in the 2nd
    assert fast.optimizer.learning_rate == pytest.approx(0.05)
    for key in eager_history:
        np.testing.assert_allclose(fast_history[key], eager_history[key], rtol=1e-5, err_msg=key)
    for fast_weight, eager_weight in zip(fast.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(fast_weight, eager_weight, rtol=1e-5, atol=1e-6)
