import math

import numpy as np
import pytest
import torch

import ember
from ember import layers
from tests.conftest import check_layer


def reference_attention(query, value, weights, key_dim, mask=None):
    """softmax(Q K^T / sqrt(d)) V in float64, from Keras-layout weights."""
    qk, qb, kk, kb, vk, vb, ok, ob = [torch.from_numpy(w).double() for w in weights]
    q = torch.einsum("btd,dhk->bhtk", query, qk) + qb[None, :, None]
    k = torch.einsum("bsd,dhk->bhsk", value, kk) + kb[None, :, None]
    v = torch.einsum("bsd,dhk->bhsk", value, vk) + vb[None, :, None]
    scores = q @ k.transpose(-1, -2) / math.sqrt(key_dim)
    if mask is not None:
        scores = scores.masked_fill(~mask[:, None], float("-inf"))
    return torch.einsum("bhtk,hkd->btd", torch.softmax(scores, -1) @ v, ok) + ob


def test_multi_head_attention_matches_the_float64_formula(tmp_path):
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    query, value = torch.randn(2, 4, 5, dtype=torch.float64), torch.randn(2, 6, 5, dtype=torch.float64)
    output, scores = layer(query.float(), value.float(), return_attention_scores=True)
    expected = reference_attention(query, value, layer.get_weights(), 3)
    torch.testing.assert_close(output.double(), expected, rtol=1e-4, atol=1e-5)
    assert scores.shape == (2, 2, 4, 6) and [w.shape for w in layer.get_weights()][:2] == [(5, 2, 3), (2, 3)]
    mask = torch.rand(2, 4, 6) > 0.3
    mask[..., 0] = True
    torch.testing.assert_close(layer(query.float(), value.float(), attention_mask=mask).double(),
                               reference_attention(query, value, layer.get_weights(), 3, mask), rtol=1e-4, atol=1e-5)
    check_layer(layers.MultiHeadAttention(2, 4), (2, 5, 6), (2, 5, 6), tmp_path=tmp_path)


def test_causal_mask_hides_the_future():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = torch.randn(1, 6, 8)
    out = layer(x, x, use_causal_mask=True)
    changed = x.clone()
    changed[:, 4:] = torch.randn(1, 2, 8)
    torch.testing.assert_close(layer(changed, changed, use_causal_mask=True)[:, :4], out[:, :4])


def test_padding_never_affects_valid_positions():
    ember.utils.set_random_seed(0)
    model = ember.Sequential([layers.Input((6,), dtype="int64"),
                              layers.TokenAndPositionEmbedding(20, 6, 8, mask_zero=True),
                              layers.TransformerEncoder(intermediate_dim=16, num_heads=2)])
    a = model(torch.tensor([[3, 4, 5, 0, 0, 0]]))
    b = model(torch.tensor([[3, 4, 5, 0, 0, 0]]).masked_fill(torch.tensor([[0, 0, 0, 1, 1, 1]]).bool(), 0))
    c = model(torch.tensor([[3, 4, 5, 0, 0, 0]]))
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a[:, :3], c[:, :3])


def test_encoder_shapes_config_and_save(tmp_path):
    check_layer(layers.TransformerEncoder(intermediate_dim=12, num_heads=2), (2, 5, 8), (2, 5, 8), tmp_path=tmp_path)
    check_layer(layers.TransformerEncoder(12, 2, normalize_first=True, dropout=0.1), (2, 5, 8), (2, 5, 8))
    check_layer(layers.TokenAndPositionEmbedding(30, 10, 4), (2, 7), (2, 7, 4), dtype=torch.int64, tmp_path=tmp_path)
    check_layer(layers.SinePositionEncoding(), (2, 5, 6), (2, 5, 6))
    with pytest.raises(ValueError, match="divisible by num_heads=3"):
        layers.TransformerEncoder(12, 3)(torch.randn(1, 4, 8))


def test_bad_lengths_and_masks_name_the_numbers():
    model = ember.Sequential([layers.Input((None,), dtype="int64"), layers.TokenAndPositionEmbedding(50, 8, 4)])
    with pytest.raises(ValueError, match=r"PositionEmbedding .* at most sequence_length=8 steps; got a sequence of 12"):
        model.predict(np.ones((1, 12), dtype="int64"), verbose=0)
    attention = layers.MultiHeadAttention(2, 2)
    with pytest.raises(ValueError, match=r"attention_mask must have shape \(batch, 3, 3\); got \(1, 3, 4\)"):
        attention(torch.randn(1, 3, 4), attention_mask=torch.ones(1, 3, 4, dtype=torch.bool))


def test_a_transformer_classifier_learns(blobs):
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, size=(256, 10))
    y = (x == 7).any(axis=1).astype("float32")  # "does the sequence contain token 7?"
    model = ember.Sequential([layers.Input((10,), dtype="int64"), layers.TokenAndPositionEmbedding(20, 10, 16),
                              layers.TransformerEncoder(32, 2), layers.GlobalAveragePooling1D(),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(ember.optimizers.Adam(3e-3), "binary_crossentropy", metrics=["accuracy"])
    assert model.fit(x, y, epochs=20, verbose=0).history["accuracy"][-1] > 0.9


def test_dot_and_additive_attention_follow_their_formulas():
    query, value = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    expected = torch.softmax(query @ value.transpose(1, 2), -1) @ value
    torch.testing.assert_close(layers.Attention()([query, value]), expected)
    additive = layers.AdditiveAttention(use_scale=True)
    output, scores = additive([query, value], return_attention_scores=True)
    scale = additive.scale
    reference = torch.softmax((torch.tanh(query[:, :, None] + value[:, None]) * scale).sum(-1), -1)
    torch.testing.assert_close(scores, reference)
    assert output.shape == (2, 3, 4)
    with pytest.raises(ValueError, match=r"called on \[query, value\]"):
        layers.Attention()(query)


def test_decoder_is_causal_over_its_target():
    decoder = layers.TransformerDecoder(intermediate_dim=16, num_heads=2)
    target, source = torch.randn(1, 6, 8), torch.randn(1, 4, 8)
    decoder.eval()
    out = decoder(target, source)
    changed = target.clone()
    changed[:, 3:] = torch.randn(1, 3, 8)
    torch.testing.assert_close(decoder(changed, source)[:, :3], out[:, :3])


def test_tutorial_transformer_as_encoder_stack_and_encoder_decoder(tmp_path):
    stack = layers.Transformer(num_heads=2, d_model=8, num_layers=2, activation="relu")
    check_layer(stack, (2, 5, 6), (2, 5, 8), tmp_path=tmp_path)
    source, target = ember.Input((None, 6)), ember.Input((None, 4))
    translated = layers.Dense(3, activation="softmax")(layers.Transformer(num_heads=2, d_model=8)([source, target]))
    model = ember.Model([source, target], translated)
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(16, 7, 6)).astype("float32"), rng.normal(size=(16, 5, 4)).astype("float32")]
    model.fit(x, rng.integers(0, 3, size=(16, 5)), epochs=1, verbose=0)
    model.save(tmp_path / "seq2seq.ember")
    np.testing.assert_allclose(ember.load_model(tmp_path / "seq2seq.ember").predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="divisible by num_heads=3"):
        layers.Transformer(num_heads=3, d_model=8)
