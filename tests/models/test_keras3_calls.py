"""Keras 3 calling conventions: layers called with several tensors, dict-valued model outputs,
and `layer.build(shape)` called directly."""

import numpy as np
import torch

import ember
from ember import layers


class LogisticEndpoint(layers.Layer):
    """The keras.io functional-API guide's endpoint layer: called as `layer(targets, logits)`."""

    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = ember.losses.BinaryCrossentropy(from_logits=True)

    def call(self, targets, logits, sample_weights=None):
        self.add_loss(self.loss_fn(targets, logits, sample_weights))
        return torch.sigmoid(logits)


def test_a_layer_called_with_targets_and_logits_trains_on_its_own_loss():
    inputs = ember.Input(shape=(3,), name="inputs")
    targets = ember.Input(shape=(10,), name="targets")
    logits = layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(targets, logits)
    model = ember.Model(inputs=[inputs, targets], outputs=predictions)
    model.compile(optimizer="adam")
    rng = np.random.default_rng(0)
    data = {"inputs": rng.random((64, 3)), "targets": (rng.random((64, 10)) > 0.5).astype("float32")}
    history = model.fit(data, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_dict_outputs_are_matched_by_name_in_fit_evaluate_and_predict():
    inputs = ember.Input((4,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    model = ember.Model(inputs, {"score": layers.Dense(1)(hidden), "kind": layers.Dense(3, activation="softmax")(hidden)})
    assert model.output_names == ["score", "kind"]
    model.compile("adam", loss={"kind": "sparse_categorical_crossentropy", "score": "mse"}, metrics={"kind": "accuracy"},
                  loss_weights={"score": 0.5, "kind": 1.0})
    rng = np.random.default_rng(0)
    x = rng.random((32, 4)).astype("float32")
    y = {"score": rng.random((32, 1)).astype("float32"), "kind": rng.integers(0, 3, 32)}
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert set(history.history) == {"loss", "score_loss", "kind_loss", "kind_accuracy"}
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    assert abs(results["loss"] - (0.5 * results["score_loss"] + results["kind_loss"])) < 1e-4
    predictions = model.predict(x, verbose=0)
    assert set(predictions) == {"score", "kind"} and predictions["kind"].shape == (32, 3)


def test_build_called_directly_marks_the_layer_built():
    layer = layers.Dense(3)
    layer.build((None, 4))
    assert layer.built and layer.kernel.shape == (4, 3) and layer.get_build_config() == {"input_shape": [None, 4]}
    assert layer(torch.ones(2, 4)).shape == (2, 3)


def test_merge_helpers_and_dot():
    a, b = ember.Input((4,)), ember.Input((4,))
    outputs = [layers.subtract([a, b]), layers.multiply([a, b]), layers.average([a, b]), layers.maximum([a, b]),
               layers.minimum([a, b]), layers.dot([a, b], axes=1), layers.dot([a, b], axes=1, normalize=True)]
    model = ember.Model([a, b], outputs)
    x, y = np.random.default_rng(0).random((2, 3, 4)).astype("float32")
    sub, mul, avg, high, low, dot, cosine = model.predict([x, y], verbose=0)
    np.testing.assert_allclose(sub, x - y, rtol=1e-6)
    np.testing.assert_allclose(mul, x * y, rtol=1e-6)
    np.testing.assert_allclose(avg, (x + y) / 2, rtol=1e-6)
    np.testing.assert_allclose(high, np.maximum(x, y))
    np.testing.assert_allclose(low, np.minimum(x, y))
    np.testing.assert_allclose(dot, (x * y).sum(1, keepdims=True), rtol=1e-5)
    cos = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    np.testing.assert_allclose(cosine[:, 0], cos, rtol=1e-5)
    sequences = layers.Dot(axes=(2, 2))([torch.ones(2, 3, 5), torch.ones(2, 4, 5)])
    assert sequences.shape == (2, 3, 4) and float(sequences[0, 0, 0]) == 5.0


def test_masks_as_keras_exposes_them():
    """The masking guide's patterns: `_keras_mask`, a user `compute_mask` (also for split outputs),
    a mask reaching a custom layer's `call(mask=)` in a functional model, symbolic masks."""
    from ember import ops

    class TemporalSplit(layers.Layer):
        def call(self, inputs):
            return ops.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            return None if mask is None else ops.split(mask, 2, axis=1)

    class CustomEmbedding(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

        def build(self, input_shape):
            self.embeddings = self.add_weight(shape=(10, 4), initializer="random_normal", dtype="float32")

        def call(self, inputs):
            return ops.take(self.embeddings, ops.cast(inputs, "int32"))

        def compute_mask(self, inputs, mask=None):
            return ops.not_equal(inputs, 0)

    class TemporalSoftmax(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs, mask=None):
            assert mask is not None
            weights = ops.exp(inputs) * ops.expand_dims(ops.cast(mask, "float32"), -1)
            return weights / ops.sum(weights, axis=1, keepdims=True)

    padded = np.array([[3, 4, 0, 0], [5, 6, 7, 0]])
    masked = layers.Masking()(ops.cast(ops.tile(ops.expand_dims(padded, -1), [1, 1, 2]), "float32"))
    first, second = TemporalSplit()(masked)
    assert first._keras_mask.tolist() == [[True, True], [True, True]]
    assert second._keras_mask.tolist() == [[False, False], [True, False]]
    assert CustomEmbedding()(padded)._keras_mask.tolist() == (padded != 0).tolist()
    inputs = ember.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(10, 8, mask_zero=True)(inputs)
    assert x._keras_mask is not None and x._keras_mask.shape == (None, None)
    model = ember.Model(inputs, TemporalSoftmax()(layers.Dense(1)(x)))
    out = model(padded)
    assert float(out[0, 2:].abs().sum()) == 0.0 and abs(float(out[1].sum()) - 1.0) < 1e-5
