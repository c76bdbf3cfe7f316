import numpy as np
import pytest
import torch

import ember
from ember import layers
from tests.conftest import check_layer


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("layer_class", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_shapes_with_and_without_sequences_and_states(layer_class, tmp_path):
    check_layer(layer_class(6), (2, 5, 3), (2, 6), tmp_path=tmp_path)
    check_layer(layer_class(6, return_sequences=True), (2, 5, 3), (2, 5, 6))
    outputs = layer_class(6, return_state=True)(torch.randn(2, 5, 3))
    assert len(outputs) == (3 if layer_class is layers.LSTM else 2)
    assert all(tuple(o.shape) == (2, 6) for o in outputs)


def test_lstm_matches_torch_lstm_from_keras_weights():
    layer = layers.LSTM(4, return_sequences=True)
    x = torch.randn(2, 6, 3)
    layer(x)
    kernel, recurrent, bias = layer.get_weights()
    assert kernel.shape == (3, 16) and recurrent.shape == (4, 16) and bias.shape == (16,)
    np.testing.assert_array_equal(bias[4:8], 1.0)  # unit_forget_bias
    reference = torch.nn.LSTM(3, 4, batch_first=True)
    with torch.no_grad():  # Keras (i, f, c, o) is PyTorch's (i, f, g, o)
        reference.weight_ih_l0.copy_(torch.from_numpy(kernel.T))
        reference.weight_hh_l0.copy_(torch.from_numpy(recurrent.T))
        reference.bias_ih_l0.copy_(torch.from_numpy(bias))
        reference.bias_hh_l0.zero_()
    torch.testing.assert_close(layer(x), reference(x)[0], rtol=1e-5, atol=1e-5)


def keras_gru_reference(x, kernel, recurrent, bias, units):
    """Keras's GRU (reset_after=True, gates z, r, h) in float64 NumPy."""
    h = np.zeros((x.shape[0], units))
    for step in range(x.shape[1]):
        matrix_x = x[:, step] @ kernel + bias[0]
        matrix_inner = h @ recurrent + bias[1]
        z = sigmoid(matrix_x[:, :units] + matrix_inner[:, :units])
        r = sigmoid(matrix_x[:, units:2 * units] + matrix_inner[:, units:2 * units])
        candidate = np.tanh(matrix_x[:, 2 * units:] + r * matrix_inner[:, 2 * units:])
        h = z * h + (1 - z) * candidate
    return h


def test_gru_matches_keras_equations_and_gate_order():
    layer = layers.GRU(5)
    x = np.random.default_rng(0).normal(size=(3, 4, 2))
    layer(torch.from_numpy(x).float())
    rng = np.random.default_rng(1)
    weights = [rng.normal(0, 0.5, (2, 15)), rng.normal(0, 0.5, (5, 15)), rng.normal(0, 0.5, (2, 15))]
    layer.set_weights(weights)
    expected = keras_gru_reference(x, *weights, units=5)
    np.testing.assert_allclose(layer(torch.from_numpy(x).float()).detach().numpy(), expected, atol=1e-5)
    for got, given in zip(layer.get_weights(), weights):
        np.testing.assert_allclose(got, given, rtol=1e-6)


@pytest.mark.parametrize("layer_class", [layers.SimpleRNN, layers.LSTM, layers.GRU])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_fused_and_general_paths_agree_with_masks(layer_class, return_sequences, go_backwards):
    layer = layer_class(6, return_sequences=return_sequences, go_backwards=go_backwards)
    x = torch.randn(3, 5, 4)
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], dtype=torch.bool)
    layer(x)
    assert layer.uses_fused_path()
    fused, fused_nomask = layer(x, mask=mask), layer(x)
    layer.uses_fused_path = lambda: False
    torch.testing.assert_close(layer(x, mask=mask), fused, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(layer(x), fused_nomask, rtol=1e-5, atol=1e-5)


def test_general_path_for_non_default_activation():
    layer = layers.LSTM(3, activation="relu")
    x = torch.randn(2, 4, 2)
    out = layer(x)
    assert not layer.uses_fused_path() and out.shape == (2, 3)


@pytest.mark.parametrize("layer_class", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_padding_never_changes_the_result(layer_class):
    ember.utils.set_random_seed(0)
    model = ember.Sequential([layers.Input((None,), dtype="int64"), layers.Embedding(20, 8, mask_zero=True),
                              layer_class(5)])
    tokens = [3, 7, 1, 9]
    batch = torch.tensor([[0, 0, 0] + tokens, tokens + [0, 0, 0], [0] + tokens + [0, 0]])
    out = model(batch)
    torch.testing.assert_close(out[0], out[1], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out[0], out[2], rtol=1e-5, atol=1e-6)
    unpadded = model(torch.tensor([tokens]))
    torch.testing.assert_close(out[0], unpadded[0], rtol=1e-5, atol=1e-6)


def test_bidirectional_merge_modes_and_masks(tmp_path):
    check_layer(layers.Bidirectional(layers.LSTM(4)), (2, 5, 3), (2, 8), tmp_path=tmp_path)
    check_layer(layers.Bidirectional(layers.GRU(4, return_sequences=True), merge_mode="sum"), (2, 5, 3), (2, 5, 4))
    both = layers.Bidirectional(layers.SimpleRNN(4), merge_mode=None)(torch.randn(2, 5, 3))
    assert isinstance(both, list) and len(both) == 2
    model = ember.Sequential([layers.Input((None,), dtype="int64"), layers.Embedding(20, 8, mask_zero=True),
                              layers.Bidirectional(layers.LSTM(4))])
    out = model(torch.tensor([[0, 0, 5, 6], [5, 6, 0, 0]]))
    torch.testing.assert_close(out[0], out[1], rtol=1e-5, atol=1e-6)
    weights = model.layers[1].get_weights()
    assert len(weights) == 6 and weights[0].shape == (8, 16)


def test_time_distributed_applies_a_layer_per_step():
    layer = layers.TimeDistributed(layers.Dense(3))
    check_layer(layer, (2, 5, 4), (2, 5, 3))


def test_rnn_on_rank2_input_asks_for_timesteps():
    with pytest.raises(ValueError, match=r"expects 3-D input \(batch, timesteps, features\); got shape "
                                         r"\(None, 10\). Add a features axis"):
        ember.Sequential([layers.Input((10,)), layers.SimpleRNN(4)])


def test_embedding_and_its_id_check(tmp_path):
    check_layer(layers.Embedding(10, 4), (2, 5), (2, 5, 4), dtype=torch.int64, tmp_path=tmp_path)
    model = ember.Sequential([layers.Embedding(10, 4, input_length=5), layers.GlobalAveragePooling1D(),
                              layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    with pytest.raises(ValueError, match=r"Embedding .embedding_1. takes integer ids in \[0, 10\).*from 1 to 12"):
        model.fit(np.array([[1, 2, 3, 4, 12]]), np.array([1]), verbose=0)


def test_masking_layer_and_masked_global_pooling():
    x = torch.tensor([[[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]]])
    masked = layers.Masking()(x)
    torch.testing.assert_close(masked._keras_mask, torch.tensor([[False, True, True]]))
    torch.testing.assert_close(layers.GlobalAveragePooling1D()(masked), torch.tensor([[2.0, 3.0]]))


def test_sequence_loss_ignores_padded_steps():
    model = ember.Sequential([layers.Input((4,), dtype="int64"), layers.Embedding(10, 3, mask_zero=True),
                              layers.LSTM(5, return_sequences=True), layers.TimeDistributed(layers.Dense(2))])
    model.compile("adam", ember.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.array([[0, 0, 3, 4]])
    base = model.evaluate(x, np.array([[0, 0, 1, 0]]), verbose=0)
    changed_padding_targets = model.evaluate(x, np.array([[1, 1, 1, 0]]), verbose=0)
    assert base == pytest.approx(changed_padding_targets)


def test_lstm_classifier_learns_a_sequence_rule():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 10, size=(400, 8))
    y = (x[:, 0] > x[:, -1]).astype("float32")  # needs the first and the last step
    model = ember.Sequential([layers.Embedding(10, 8), layers.LSTM(16), layers.Dense(1, activation="sigmoid")])
    model.compile(ember.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_conv1d_text_model_with_a_padding_mask():
    model = ember.Sequential([layers.Input((12,), dtype="int64"), layers.Embedding(50, 8, mask_zero=True),
                              layers.Conv1D(16, 3, activation="relu"), layers.GlobalMaxPooling1D(),
                              layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).integers(0, 50, size=(64, 12))
    history = model.fit(x, (x[:, 0] > 25).astype("float32"), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and model.predict(x[:3], verbose=0).shape == (3, 1)
