import json

import numpy as np
import pytest
import torch

import ember
from ember import layers


class KerasStyleDense(layers.Layer):
    """A user layer written the Keras way: build + call, add_weight with Keras 3 arguments."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs, training=None):
        return inputs @ self.w + self.b


def test_keras_style_subclass_builds_lazily_and_trains(blobs):
    x, y = blobs
    layer = KerasStyleDense(3)
    assert not layer.built
    model = ember.Sequential([layers.Input((4,)), layer, layers.Activation("softmax")])
    assert layer.built and layer.w.shape == (4, 3)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_add_weight_accepts_keras2_argument_order():
    layer = layers.Layer()
    weight = layer.add_weight("kernel", (2, 3))
    assert weight.shape == (2, 3) and layer.get_weights()[0].shape == (2, 3)


def test_non_trainable_weights_are_buffers_listed_after_trainable_ones():
    layer = layers.Layer()
    layer.add_weight("counter", (1,), trainable=False)
    layer.add_weight("scale", (1,), initializer="ones")
    assert [w.shape for w in layer.weights] == [(1,), (1,)]
    assert layer.trainable_weights[0] is layer.scale and layer.non_trainable_weights[0] is layer.counter


def test_trainable_false_freezes_parameters():
    dense = layers.Dense(2)
    dense(torch.ones(1, 3))
    dense.trainable = False
    assert all(not p.requires_grad for p in dense.parameters())
    assert dense.trainable_weights == [] and len(dense.non_trainable_weights) == 2


def test_set_weights_checks_count_and_shapes():
    dense = layers.Dense(2)
    dense(torch.ones(1, 3))
    with pytest.raises(ValueError, match="has 2 weights"):
        dense.set_weights([np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r"has shape \(3, 2\); set_weights got shape \(2, 3\)"):
        dense.set_weights([np.zeros((2, 3)), np.zeros(2)])


def test_kernel_regularizer_adds_penalty_to_losses():
    dense = layers.Dense(2, kernel_regularizer=ember.regularizers.L2(0.1), kernel_initializer="ones")
    dense(torch.ones(1, 3))
    assert abs(sum(dense.losses).item() - 0.1 * 6) < 1e-6


def test_kernel_constraint_is_applied_after_each_step(blobs):
    x, y = blobs
    model = ember.Sequential([layers.Dense(8, input_shape=(4,), kernel_constraint=ember.constraints.MaxNorm(0.5)),
                              layers.Dense(3, activation="softmax")])
    model.compile(ember.optimizers.SGD(1.0), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    norms = np.linalg.norm(model.layers[0].get_weights()[0], axis=0)
    assert np.all(norms <= 0.5 + 1e-5)


def test_automatic_names_are_unique_and_keras_like():
    assert [layers.Dense(1).name, layers.Dense(1).name] == ["dense", "dense_1"]
    assert layers.BatchNormalization().name == "batch_normalization"


def test_ember_layer_inside_plain_pytorch_model():
    model = torch.nn.Sequential(layers.Dense(4, activation="relu"), torch.nn.Linear(4, 2))
    out = model(torch.randn(3, 5))
    out.sum().backward()
    assert out.shape == (3, 2)


def test_unknown_keyword_argument_is_rejected():
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        layers.Dense(3, unitz=4)


def test_build_config_round_trip_builds_a_new_layer_the_same_way():
    layer = ember.layers.Dense(3)
    layer.build_from_shapes((None, 4))
    config = layer.get_build_config()
    assert config == {"input_shape": [None, 4]} and json.loads(json.dumps(config)) == config
    copy = ember.layers.Dense.from_config(layer.get_config())
    copy.build_from_config(config)
    assert copy.built and copy.kernel.shape == layer.kernel.shape
    add = ember.layers.Add()
    add([ember.Input((2,)), ember.Input((2,))])
    merged = ember.layers.Add()
    merged.build_from_config(add.get_build_config())
    assert merged.built and ember.layers.Dense(2).get_build_config() is None
    with pytest.raises(ValueError, match="has 'input_shape' or 'input_shapes'"):
        ember.layers.Dense(2).build_from_config({"shape": [None, 3]})
