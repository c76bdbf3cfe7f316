import numpy as np
import pytest

import ember
from ember import layers


def two_input_model():
    image = ember.Input(shape=(6,), name="features")
    meta = ember.Input(shape=(2,), name="meta")
    x = layers.Dense(8, activation="relu")(image)
    merged = layers.Concatenate()([x, meta])
    score = layers.Dense(1, activation="sigmoid", name="score")(merged)
    category = layers.Dense(3, activation="softmax", name="category")(merged)
    return ember.Model(inputs=[image, meta], outputs=[score, category])


def test_functional_model_with_two_inputs_and_two_outputs_trains():
    model = two_input_model()
    assert isinstance(model, ember.models.Functional) and model.output_names == ["score", "category"]
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=(200, 6)).astype("float32"), rng.normal(size=(200, 2)).astype("float32")
    y1, y2 = (x1[:, 0] > 0).astype("float32"), (x2[:, 0] > 0).astype("int64") + (x1[:, 1] > 0)
    model.compile(ember.optimizers.Adam(0.01),
                  loss={"score": "binary_crossentropy", "category": "sparse_categorical_crossentropy"},
                  loss_weights={"score": 1.0, "category": 0.5},
                  metrics={"score": ["accuracy"], "category": ["accuracy"]})
    history = model.fit({"features": x1, "meta": x2}, {"score": y1, "category": y2}, epochs=20, verbose=0)
    keys = set(history.history)
    assert {"loss", "score_loss", "category_loss", "score_accuracy", "category_accuracy"} <= keys
    assert history.history["score_accuracy"][-1] > 0.85
    score, category = model.predict([x1, x2], verbose=0)
    assert score.shape == (200, 1) and category.shape == (200, 3)


def test_shared_layer_uses_one_set_of_weights():
    a, b = ember.Input((4,)), ember.Input((4,))
    shared = layers.Dense(3)
    model = ember.Model([a, b], layers.Subtract()([shared(a), shared(b)]))
    assert model.count_params() == 15
    x = np.random.rand(2, 4).astype("float32")
    np.testing.assert_allclose(model.predict([x, x], verbose=0), 0, atol=1e-6)


def test_model_used_as_a_layer():
    inner_input = ember.Input((4,))
    inner = ember.Model(inner_input, layers.Dense(2)(inner_input))
    outer_input = ember.Input((4,))
    outer = ember.Model(outer_input, layers.Dense(1)(inner(outer_input)))
    assert outer.predict(np.ones((3, 4), "float32"), verbose=0).shape == (3, 1)


def test_outputs_must_come_from_the_inputs():
    a, b = ember.Input((2,)), ember.Input((2,))
    with pytest.raises(ValueError, match="not among the model's inputs"):
        ember.Model(a, layers.Add()([a, b]))


def test_functional_input_shape_mismatch_names_shapes():
    model = two_input_model()
    model.compile("adam", ["binary_crossentropy", "sparse_categorical_crossentropy"])
    with pytest.raises(ValueError, match=r"expects input 0 shape \(None, 6\); got data of shape \(None, 5\)"):
        model.predict([np.zeros((2, 5)), np.zeros((2, 2))], verbose=0)


def test_symbolic_call_reports_layer_and_shapes():
    x = ember.Input((3,))
    with pytest.raises(ValueError, match="Add 'add' needs inputs of the same shape"):
        layers.Add()([layers.Dense(4)(x), layers.Dense(5)(x)])
