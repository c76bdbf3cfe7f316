"""Weights and metric state behave as Keras 3 variables (value, assign*, numpy, path) and stay
ordinary torch parameters and buffers."""

import copy
import pickle

import numpy as np
import pytest
import torch

import ember
from ember import layers
from ember.variables import Variable


class Accumulating(layers.Layer):
    """The keras.io subclassing guide's layer: a trainable kernel and a non-trainable running total."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="ones")
        self.total = self.add_weight(shape=(input_shape[-1],), initializer="zeros", trainable=False)

    def call(self, inputs):
        self.total.assign_add(inputs.sum(0))
        return inputs @ self.w


def test_weights_are_keras_variables_and_torch_parameters():
    layer = Accumulating(name="acc")
    layer(torch.ones(2, 3))
    layer(np.ones((1, 3), "float32"))
    assert all(isinstance(w, Variable) for w in layer.weights)
    assert [w.path for w in layer.weights] == ["acc/weight_0", "acc/weight_1"]
    assert layer.trainable_weights[0] is layer.w and layer.non_trainable_weights[0] is layer.total
    np.testing.assert_array_equal(layer.total.numpy(), [3.0, 3.0, 3.0])
    assert [name for name, _ in layer.named_parameters()] == ["weight_0"]   # the alias `w` is the same object
    assert sorted(name for name, _ in layer.named_buffers()) == ["weight_1"]
    assert layer.w.value is layer.w and layer.w.trainable and not layer.total.trainable


def test_assign_methods_and_their_shape_check():
    variable = ember.layers.Dense(2)
    variable.build((None, 3))
    kernel = variable.kernel
    kernel.assign(np.full((3, 2), 2.0))
    kernel.assign_sub(torch.ones(3, 2))
    kernel.assign_add(1.5)
    np.testing.assert_allclose(kernel.numpy(), np.full((3, 2), 2.5))
    with pytest.raises(ValueError, match=r"shape \(3, 2\).*shape \(4,\)"):
        kernel.assign(np.zeros(4))


def test_gradient_through_value_as_in_the_torch_guide():
    model = ember.Sequential([ember.Input((3,)), layers.Dense(1)])
    loss = model(torch.ones(4, 3)).sum()
    loss.backward()
    gradients = [v.value.grad for v in model.trainable_weights]
    assert gradients[0].shape == (3, 1) and torch.allclose(gradients[1], torch.tensor([4.0]))


def test_variables_survive_conversion_copy_and_pickle():
    layer = Accumulating()
    layer(torch.ones(1, 3))
    total = layer.total
    layer.double()
    assert layer.total is total and total.dtype == torch.float64 and isinstance(layer._buffers["weight_1"], Variable)
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert isinstance(clone.w, Variable) and clone.w.path == layer.w.path
        np.testing.assert_array_equal(clone.total.numpy(), total.numpy())


def test_parameters_of_plain_torch_modules_become_variables_in_place():
    linear = torch.nn.Linear(3, 2)
    wrapper = layers.TorchModuleWrapper(linear)
    wrapper(torch.ones(1, 3))
    weights = wrapper.weights
    assert weights[0] is linear.weight and isinstance(linear.weight, Variable)


def test_metric_add_variable_keras_style():
    class TruePositives(ember.metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.true_positives = self.add_variable(shape=(), initializer="zeros", name="tp")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.true_positives.assign_add(((y_true > 0.5) & (y_pred > 0.5)).float().sum())

        def result(self):
            return self.true_positives

    metric = TruePositives()
    metric.update_state(torch.tensor([1.0, 1.0, 0.0]), torch.tensor([0.9, 0.2, 0.8]))
    metric.to("cpu")
    metric.update_state(torch.tensor([1.0]), torch.tensor([1.0]))
    assert float(metric.result()) == 2.0 and metric.variables == [metric.true_positives]
    metric.reset_state()
    assert float(metric.true_positives) == 0.0


def test_a_compiled_model_trains_its_variables():
    model = ember.Sequential([ember.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(1)])
    model.compile("adam", "mse", jit_compile=True)
    before = model.layers[0].kernel.numpy().copy()
    model.fit(np.random.rand(32, 4).astype("float32"), np.random.rand(32, 1).astype("float32"), epochs=1, verbose=0)
    assert not np.allclose(before, model.layers[0].kernel.numpy())


def test_keras_style_constructor():
    variable = ember.Variable(initializer="ones", shape=(2, 3), name="scale")
    assert variable.shape == (2, 3) and variable.requires_grad and variable.name == "scale"
    counter = ember.Variable(np.arange(3))
    assert counter.dtype == torch.int64 and not counter.trainable
    frozen = ember.Variable(torch.zeros(2), trainable=False)
    assert not frozen.requires_grad and torch.equal(frozen, torch.zeros(2))
    with pytest.raises(ValueError, match="needs a `shape`"):
        ember.Variable("zeros")


def test_stateless_metric_methods_leave_the_metric_as_it_was():
    metric = ember.metrics.Mean()
    metric.update_state(torch.tensor([1.0, 3.0]))
    state = [v.detach().clone() for v in metric.variables]
    new_state = metric.stateless_update_state(state, torch.tensor([8.0]))
    assert float(metric.result()) == 2.0                       # untouched
    assert float(metric.stateless_result(new_state)) == 4.0    # (1 + 3 + 8) / 3
    zeros = metric.stateless_reset_state()
    assert all(float(z.sum()) == 0 for z in zeros) and float(metric.result()) == 2.0
    accuracy = ember.metrics.SparseCategoricalAccuracy()
    after = accuracy.stateless_update_state(accuracy.stateless_reset_state(), torch.tensor([1, 0]),
                                            torch.tensor([[0.2, 0.8], [0.9, 0.1]]))
    assert float(accuracy.stateless_result(after)) == 1.0
