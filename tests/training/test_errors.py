import numpy as np
import pytest

import ember
from ember import layers


def mlp(loss="sparse_categorical_crossentropy", units=10, activation="softmax"):
    model = ember.Sequential([layers.Dense(16, activation="relu", input_shape=(784,)),
                              layers.Dense(units, activation=activation)])
    model.compile("adam", loss, metrics=["accuracy"])
    return model


def test_wrong_input_shape_names_the_model_layer_and_shapes():
    with pytest.raises(ValueError, match=r"expects input shape \(None, 784\) \(first layer 'dense', Dense\); got "
                                         r"data of shape \(None, 28, 28\)"):
        mlp().fit(np.zeros((4, 28, 28)), np.zeros(4), verbose=0)


def test_x_and_y_of_different_lengths():
    with pytest.raises(ValueError, match=r"same number of samples; got x: \[4\], y: \[3\]"):
        mlp().fit(np.zeros((4, 784)), np.zeros(3), verbose=0)


def test_sparse_labels_out_of_range():
    with pytest.raises(ValueError, match=r"class ids must lie in \[0, 10\).*got ids from 0 to 12"):
        mlp().fit(np.zeros((4, 784)), np.array([0, 1, 2, 12]), verbose=0)


def test_one_hot_labels_given_to_sparse_loss():
    with pytest.raises(ValueError, match="look one-hot. Use loss='categorical_crossentropy'"):
        mlp().fit(np.zeros((4, 784)), ember.utils.to_categorical([0, 1, 2, 3], 10), verbose=0)


def test_integer_labels_given_to_categorical_loss():
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy.*to_categorical"):
        mlp("categorical_crossentropy").fit(np.zeros((4, 784)), np.array([0, 1, 2, 3]), verbose=0)


def test_binary_loss_with_multiclass_targets():
    with pytest.raises(ValueError, match=r"binary_crossentropy needs targets in \[0, 1\]"):
        mlp("binary_crossentropy", 1, "sigmoid").fit(np.zeros((4, 784)), np.array([0, 1, 2, 3]), verbose=0)


def test_regression_targets_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"Targets have shape \(4, 3\) but the model outputs shape \(None, 10\)"):
        mlp("mse").fit(np.zeros((4, 784)), np.zeros((4, 3)), verbose=0)


@pytest.mark.parametrize("kind, call", [
    ("optimizer", lambda: mlp().compile("adamm", "mse")),
    ("loss", lambda: mlp().compile("adam", "mean_squared_eror")),
    ("metric", lambda: mlp().compile("adam", "mse", metrics=["acuracy"])),
    ("activation", lambda: layers.Dense(3, activation="rellu")),
])
def test_unknown_names_list_the_valid_ones(kind, call):
    with pytest.raises(ValueError, match=f"Unknown {kind} .* Valid {kind} names: .*"):
        call()


def test_fit_before_compile():
    model = ember.Sequential([layers.Dense(1, input_shape=(3,))])
    with pytest.raises(RuntimeError, match="must compile the model before calling fit"):
        model.fit(np.zeros((2, 3)), np.zeros(2))


def test_nan_and_inf_inputs_are_rejected():
    x = np.zeros((4, 784))
    x[2, 5] = np.nan
    with pytest.raises(ValueError, match=r"x contains NaN or infinite values \(first at index \(2, 5\)\)"):
        mlp().fit(x, np.zeros(4), verbose=0)
    with pytest.raises(ValueError, match="y contains NaN"):
        mlp("mse", 1, None).fit(np.zeros((4, 784)), np.array([0, np.inf, 0, 0]), verbose=0)


def test_ragged_lists_suggest_pad_sequences():
    with pytest.raises(ValueError, match="pad_sequences"):
        mlp().fit([[1, 2], [1, 2, 3]], [0, 1], verbose=0)


def test_validation_split_and_data_together():
    with pytest.raises(ValueError, match="either validation_split or validation_data"):
        mlp().fit(np.zeros((4, 784)), np.zeros(4), validation_split=0.5, validation_data=(np.zeros((1, 784)), [0]))


def cnn():
    model = ember.Sequential([layers.Input((28, 28, 1)), layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(2)])
    model.compile("adam", ember.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_colour_images_into_a_grayscale_model():
    with pytest.raises(ValueError, match=r"expects input shape \(None, 28, 28, 1\) \(first layer 'conv2d', Conv2D\); "
                                         r"got data of shape \(None, 28, 28, 3\). The images have 3 channels"):
        cnn().predict(np.zeros((2, 28, 28, 3)), verbose=0)


def test_channels_first_data_into_a_channels_last_model():
    with pytest.raises(ValueError, match="looks channels-first.*data_format='channels_first'"):
        cnn().predict(np.zeros((2, 1, 28, 28)), verbose=0)
    with pytest.raises(ValueError, match=r"Add a channels axis"):
        cnn().predict(np.zeros((2, 28, 28)), verbose=0)


def test_a_cnn_without_flatten_is_told_to_add_flatten_not_to_change_the_loss():
    """The tutorials' CNN that forgets Flatten: Dense layers straight after pooling keep (5, 5)."""
    model = ember.Sequential([layers.Input((12, 12, 1)), layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(),
                              layers.Dense(16, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).random((64, 12, 12, 1)).astype("float32")
    one_hot = np.eye(10, dtype="float32")[np.arange(64) % 10]
    with pytest.raises(ValueError) as caught:
        model.fit(x, one_hot, verbose=0)
    message = str(caught.value)
    assert "(batch, 5, 5, 10)" in message and "fewer axes" in message and "Flatten()" in message
    assert "GlobalAveragePooling2D" in message and "sparse_categorical_crossentropy" not in message
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"\(batch, 5, 5, 10\).*fewer axes.*Flatten\(\)"):
        model.fit(x, np.arange(64) % 10, verbose=0)


def test_sequence_outputs_with_per_step_targets_are_not_mistaken_for_a_missing_flatten():
    model = ember.Sequential([layers.Input((6,), dtype="int64"), layers.Embedding(20, 4),
                              layers.LSTM(5, return_sequences=True), layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    tokens = np.random.default_rng(0).integers(0, 20, size=(8, 6))
    model.fit(tokens, tokens % 3, verbose=0)  # (batch, steps) ids for (batch, steps, 3) outputs: fine
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="return_sequences=False"):
        model.fit(tokens, np.zeros((8, 3), "float32"), verbose=0)


def test_a_dict_of_targets_for_a_single_output_model_gets_a_clear_error():
    model = ember.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = np.random.default_rng(0).random((10, 4)).astype("float32"), np.arange(10) % 3
    for arguments in ({}, {"class_weight": {0: 1.0, 1: 2.0}}):
        with pytest.raises(ValueError, match=r"one output \('output'\) but y is a dict with 2 entries|single output"):
            model.fit(x, {"labels": y, "other": y}, verbose=0, **arguments)
    history = model.fit(x, {"labels": y}, class_weight={0: 1.0, 1: 2.0}, verbose=0).history  # one entry: the array
    assert set(history) == {"loss", "accuracy"}
