import json
import zipfile

import numpy as np
import pytest

import ember
from ember import layers
from ember.saving import ModelFileError


def trained_model(blobs):
    x, y = blobs
    model = ember.Sequential([layers.Dense(16, activation="relu", input_shape=(4,)), layers.BatchNormalization(),
                              layers.Dropout(0.2), layers.Dense(3, activation="softmax")])
    model.compile(ember.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    return model


def test_save_and_load_gives_identical_predictions_and_compile_state(blobs, tmp_path):
    x, y = blobs
    model = trained_model(blobs)
    model.save(tmp_path / "model.ember")
    loaded = ember.load_model(tmp_path / "model.ember")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.iterations == model.optimizer.iterations
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))


def test_resumed_training_continues_the_same_run(blobs, tmp_path):
    x, y = blobs
    model = trained_model(blobs)
    model.save(tmp_path / "model.ember")
    loaded = ember.load_model(tmp_path / "model.ember")
    ember.utils.set_random_seed(5)
    model.fit(x, y, epochs=1, verbose=0, shuffle=False)
    ember.utils.set_random_seed(5)
    loaded.fit(x, y, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_functional_model_with_two_inputs_round_trips(tmp_path):
    a, b = ember.Input((3,), name="a"), ember.Input((2,), name="b")
    shared = layers.Dense(4, activation="tanh")
    out = layers.Dense(1)(layers.Concatenate()([shared(a), layers.Dense(4)(b), shared(a)]))
    model = ember.Model([a, b], out)
    model.save(tmp_path / "f.ember")
    loaded = ember.load_model(tmp_path / "f.ember")
    inputs = [np.random.rand(5, 3).astype("float32"), np.random.rand(5, 2).astype("float32")]
    np.testing.assert_array_equal(loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0))
    assert loaded.count_params() == model.count_params()


def test_lambda_layer_needs_its_function_on_load(tmp_path):
    def double(x):
        return x * 2

    model = ember.Sequential([ember.Input((2,)), layers.Lambda(double), layers.Dense(1)])
    model.save(tmp_path / "l.ember")
    with pytest.raises(ModelFileError, match="custom_objects"):
        ember.load_model(tmp_path / "l.ember")
    loaded = ember.load_model(tmp_path / "l.ember", custom_objects={"double": double})
    x = np.ones((2, 2), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_saved_file_is_json_and_safetensors_only(blobs, tmp_path):
    trained_model(blobs).save(tmp_path / "m.ember")
    with zipfile.ZipFile(tmp_path / "m.ember") as archive:
        assert set(archive.namelist()) == {"config.json", "model.safetensors", "optimizer.json",
                                           "optimizer.safetensors"}
        assert json.loads(archive.read("config.json"))["format"] == "ember.model"


def test_damaged_and_foreign_files_get_clear_errors(blobs, tmp_path):
    path = tmp_path / "m.ember"
    trained_model(blobs).save(path)
    data = path.read_bytes()
    (tmp_path / "truncated.ember").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="damaged"):
        ember.load_model(tmp_path / "truncated.ember")
    (tmp_path / "foreign.ember").write_bytes(b"\x80\x04\x95 this is a pickle, not a model")
    with pytest.raises(ModelFileError, match="not an ember model file"):
        ember.load_model(tmp_path / "foreign.ember")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("config.json", json.dumps({"format": "something-else"}))
    with pytest.raises(ModelFileError, match="not an ember model file"):
        ember.load_model(tmp_path / "other.zip")


def test_weights_of_the_wrong_architecture_are_refused(blobs, tmp_path):
    trained_model(blobs).save_weights(tmp_path / "w.weights.safetensors")
    other = ember.Sequential([layers.Dense(8, input_shape=(4,)), layers.Dense(3)])
    with pytest.raises(ModelFileError, match="do not fit model"):
        other.load_weights(tmp_path / "w.weights.safetensors")


def test_unbuilt_model_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="not built"):
        ember.Sequential([layers.Dense(2)]).save(tmp_path / "x.ember")
