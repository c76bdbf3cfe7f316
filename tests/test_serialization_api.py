"""Keras 3's serialization API: registering custom objects, scopes, layers.serialize/deserialize,
to_json/model_from_json and clone_model; nothing unregistered is ever instantiated from a file."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember import layers, saving
from ember.saving import ModelFileError


@saving.register_keras_serializable(package="tests")
class Scale(layers.Layer):
    """Multiplies by a learned scalar (a user layer, registered under "tests>Scale")."""

    def __init__(self, start: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.start = start

    def build(self, input_shape):
        self.factor = self.add_weight(shape=(), initializer=ember.initializers.Constant(self.start))

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "start": self.start}


@saving.register_keras_serializable(package="tests", name="triple")
def _triple(x):
    return x * 3


def _model():
    ember.utils.set_random_seed(0)
    return ember.Sequential([layers.Input((3,)), Scale(2.0), layers.Lambda(_triple), layers.Dense(2)])


def test_registered_classes_and_functions_load_without_custom_objects(tmp_path):
    model = _model()
    assert saving.get_registered_name(Scale) == "tests>Scale" and saving.get_registered_name(_triple) == "tests>triple"
    assert saving.get_custom_objects()["tests>Scale"] is Scale and saving.get_registered_object("tests>triple") is _triple
    model.save(tmp_path / "m.ember")
    loaded = ember.load_model(tmp_path / "m.ember")
    x = np.random.default_rng(0).random((4, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert isinstance(loaded.layers[0], Scale)


def test_an_unregistered_class_in_a_file_lists_the_registered_names_and_how_to_register(tmp_path):
    model = _model()
    for index in range(25):  # more registered classes than the message lists: the same package's come first
        type(f"Filler{index}", (layers.Layer,), {"call": lambda self, inputs: inputs})
    document = model.to_json().replace("tests>Scale", "tests>Missing")
    with pytest.raises(ModelFileError) as caught:
        ember.models.model_from_json(document)
    message = str(caught.value)
    assert "'tests>Missing'" in message and "tests>Scale" in message and "register_keras_serializable" in message


def test_scopes_and_custom_objects_win_over_the_registry():
    class Other(Scale):
        pass

    spec = layers.serialize(Scale(3.0))
    assert spec["class_name"] == "tests>Scale"
    with saving.custom_object_scope({"tests>Scale": Other}):
        assert type(layers.deserialize(spec)) is Other
    assert type(layers.deserialize(spec, custom_objects={"tests>Scale": Other})) is Other
    assert type(layers.deserialize(spec)) is Scale
    saving.get_custom_objects()["tests>Added"] = Other  # adding to the live dict registers
    assert saving.get_registered_object("tests>Added") is Other
    del saving.get_custom_objects()["tests>Added"]


def test_to_json_and_model_from_json_rebuild_the_architecture_with_new_weights():
    model = _model()
    rebuilt = ember.models.model_from_json(model.to_json(indent=1))
    assert [type(l).__name__ for l in rebuilt.layers] == ["Scale", "Lambda", "Dense"]
    assert [w.shape for w in rebuilt.get_weights()] == [w.shape for w in model.get_weights()]
    with pytest.raises(ModelFileError, match="JSON text of model.to_json"):
        ember.models.model_from_json("{not json")


def test_clone_model_copies_the_architecture_not_the_weights():
    ember.utils.set_random_seed(0)
    first, second = layers.Input((4,), name="a"), layers.Input((4,), name="b")
    shared = layers.Dense(3)  # called on both inputs: one layer, one set of weights
    outputs = layers.Dense(1)(layers.Concatenate()([shared(first), shared(second)]))
    functional = ember.Model([first, second], outputs)
    for model in (_model(), functional):
        clone = ember.models.clone_model(model)
        assert type(clone) is type(model) and not clone.compiled
        assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
        assert not any(a is b for a, b in zip(clone.parameters(), model.parameters()))
    clone = ember.models.clone_model(functional)
    assert len(clone.layers) == len(functional.layers)  # the shared Dense is cloned once and still shared
    shared_clone = ember.models.clone_model(functional, clone_function=lambda layer: layer)
    assert all(a is b for a, b in zip(shared_clone.parameters(), functional.parameters()))
    x = [np.ones((2, 4), "float32"), np.zeros((2, 4), "float32")]
    np.testing.assert_allclose(shared_clone.predict(x, verbose=0), functional.predict(x, verbose=0))
    new_inputs = [ember.Input((4,)), ember.Input((4,))]
    assert ember.models.clone_model(functional, input_tensors=new_inputs).inputs == new_inputs


# ------------------------------------------------ functions, Lambda bytecode, Keras objects


def _doubled_relu(x):
    return torch.relu(x) * 2


def _squared_error(y_true, y_pred):
    return ((y_true - y_pred) ** 2).mean(-1)


def test_functions_by_name_come_from_custom_objects(tmp_path):
    model = ember.Sequential([layers.Input((3,)), layers.Dense(2, activation=_doubled_relu)])
    model.compile("adam", loss=_squared_error)
    model.save(tmp_path / "m.ember")
    objects = {"_doubled_relu": _doubled_relu, "_squared_error": _squared_error}
    loaded = ember.load_model(tmp_path / "m.ember", custom_objects=objects)
    assert loaded.layers[0].activation is _doubled_relu
    loaded.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), verbose=0)   # compiled with the user's loss
    rebuilt = ember.Sequential.from_config(model.get_config(), custom_objects=objects)
    assert rebuilt.layers[0].activation is _doubled_relu
    with pytest.raises(ValueError, match=r"Unknown activation '_doubled_relu'.*custom_objects"):
        ember.Sequential.from_config(model.get_config())


def test_lambda_bytecode_is_refused_unless_safe_mode_is_off(tmp_path, monkeypatch):
    model = ember.Sequential([layers.Input((3,)), layers.Lambda(lambda x, s=3.0: torch.tanh(x) * s + 1)])
    model.save(tmp_path / "m.ember")
    with pytest.raises(ValueError, match="refused by default.*safe_mode=False"):
        ember.load_model(tmp_path / "m.ember")
    with pytest.raises(ValueError, match="safe_mode=False"):
        ember.models.model_from_json(model.to_json())
    x = np.random.default_rng(1).random((2, 3)).astype("float32")
    loaded = ember.load_model(tmp_path / "m.ember", safe_mode=False)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), np.tanh(x) * 3 + 1, rtol=1e-6)
    monkeypatch.setattr(ember.registry, "_UNSAFE_EVERYWHERE", [False])
    ember.config.enable_unsafe_deserialization()
    assert ember.models.model_from_json(model.to_json()) is not None


@pytest.mark.parametrize("obj", [
    ember.losses.MeanSquaredError(), ember.metrics.AUC(num_thresholds=50), ember.initializers.HeNormal(seed=1),
    ember.regularizers.L2(0.1), ember.constraints.MaxNorm(2.0),
    ember.optimizers.Adam(learning_rate=ember.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)),
], ids=lambda o: type(o).__name__)
def test_keras_objects_round_trip(obj):
    config = saving.serialize_keras_object(obj)
    assert {"module", "class_name", "config", "registered_name"} <= set(config)
    import json
    rebuilt = saving.deserialize_keras_object(json.loads(json.dumps(config)))
    assert type(rebuilt) is type(obj) and saving.serialize_keras_object(rebuilt) == config


def test_keras_object_layers_functions_and_unknown_names():
    layer = layers.Dense(3, activation="relu")
    layer.build((None, 4))
    rebuilt = saving.deserialize_keras_object(saving.serialize_keras_object(layer))
    assert isinstance(rebuilt, layers.Dense) and rebuilt.built and rebuilt.units == 3
    assert saving.deserialize_keras_object(saving.serialize_keras_object(_triple)) is _triple
    assert saving.deserialize_keras_object("relu") is ember.activations.relu
    scaled = saving.deserialize_keras_object({"class_name": "tests>Scale", "config": {"start": 2.0}})
    assert isinstance(scaled, Scale) and scaled.start == 2.0
    with pytest.raises(ValueError, match=r"'tests>Nothing'.*tests>Scale.*register_keras_serializable"):
        saving.deserialize_keras_object({"class_name": "tests>Nothing", "config": {}})


@saving.register_keras_serializable(package="tests")
class Holder(layers.Layer):
    """A layer whose config holds Keras objects (a layer, a regularizer), as the saving guide's."""

    def __init__(self, inner, regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.inner, self.regularizer = inner, regularizer

    def call(self, inputs):
        return self.inner(inputs)

    def get_config(self):
        return {**super().get_config(), "inner": self.inner, "regularizer": self.regularizer}

    @classmethod
    def from_config(cls, config):
        config["inner"] = layers.deserialize(config["inner"])
        return cls(**config)


def test_configs_that_hold_keras_objects_are_serialized_inside():
    import json

    inputs = ember.Input((3,))
    model = ember.Model(inputs, Holder(layers.Dense(2), regularizer=ember.regularizers.L1L2(1e-5, 1e-4))(inputs))
    config = json.loads(json.dumps(model.get_config()))   # JSON all the way down
    holder = next(spec["config"] for spec in config["layers"] if spec["class_name"] == "tests>Holder")
    rebuilt = ember.Model.from_config(config)
    assert isinstance(rebuilt.layers[-1].inner, layers.Dense)
    assert rebuilt(torch.ones(1, 3)).shape == (1, 2)
    assert holder["regularizer"]["class_name"] == "L1L2" and holder["inner"]["class_name"] == "Dense"
