"""ember.ops against NumPy on random inputs: values, dtypes (Keras's rules), broadcasting, negative axes."""

import numpy as np
import pytest
import torch

import ember
from ember import layers, ops

rng = np.random.default_rng(0)


def array(shape, dtype="float32", low=-2.0, high=2.0):
    if np.dtype(dtype).kind in "iu":
        return rng.integers(int(low), int(high) + 1, size=shape).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)


def keras_dtype(numpy_result, *inputs):
    """NumPy's result dtype with Keras's changes: float64 becomes float32 unless an input was float64."""
    dtype = np.asarray(numpy_result).dtype
    inputs_float64 = any(np.asarray(x).dtype == np.float64 for x in inputs)
    if dtype == np.float64 and not inputs_float64:
        return np.dtype("float32")
    return dtype


def check(result, expected, *inputs, dtype=None, rtol=1e-5, atol=1e-6):
    result = ops.convert_to_numpy(result)
    expected = np.asarray(expected)
    assert result.shape == expected.shape, (result.shape, expected.shape)
    assert result.dtype == (np.dtype(dtype) if dtype else keras_dtype(expected, *inputs)), (result.dtype, expected.dtype)
    if expected.dtype == bool:
        np.testing.assert_array_equal(result, expected)
    else:
        np.testing.assert_allclose(result.astype("float64"), expected.astype("float64"), rtol=rtol, atol=atol)


BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "equal", "not_equal", "greater",
          "greater_equal", "less", "less_equal", "logaddexp", "arctan2", "hypot"]
DTYPE_PAIRS = [("float32", "float32"), ("int32", "int32"), ("int32", "float32"), ("float64", "float32")]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("dtypes", DTYPE_PAIRS, ids=lambda d: "-".join(d))
def test_binary_functions_broadcast_like_numpy(name, dtypes):
    x1, x2 = array((3, 1, 4), dtypes[0]), array((2, 4), dtypes[1], 1, 3)
    if name in ("logaddexp", "arctan2", "hypot") and "float" not in dtypes[0] + dtypes[1]:
        expected = getattr(np, name)(x1, x2).astype("float32")
    else:
        expected = getattr(np, name)(x1, x2)
    check(getattr(ops, name)(x1, x2), expected, x1, x2)


def test_integer_division_modulo_and_power():
    x1, x2 = array((5, 3), "int32", 1, 9), array((3,), "int32", 1, 4)
    check(ops.floor_divide(x1, x2), np.floor_divide(x1, x2), x1, x2)
    check(ops.mod(x1 - 5, x2), np.mod(x1 - 5, x2), x1, x2)
    check(ops.power(x1, x2), np.power(x1, x2), x1, x2)
    check(ops.divide(x1, x2), (x1 / x2).astype("float32"), x1, x2)   # Keras: int / int -> float32


def test_python_scalars_are_weakly_typed():
    x = array((3,), "int32")
    assert ops.add(x, 2).dtype == torch.int32
    assert ops.add(x, 2.5).dtype == torch.float32
    assert ops.multiply(array((3,), "float16"), 3.0).dtype == torch.float16
    assert ops.convert_to_tensor(1).dtype == torch.int32 and ops.convert_to_tensor([1.5]).dtype == torch.float32
    assert ops.convert_to_tensor(np.zeros(2)).dtype == torch.float64  # NumPy arrays keep their dtype


UNARY = ["abs", "negative", "square", "sqrt", "exp", "log", "log1p", "expm1", "sin", "cos", "tanh", "arctan",
         "sign", "floor", "ceil", "reciprocal", "isfinite", "log2", "sinh"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_unary_functions(name, dtype):
    positive = name in ("sqrt", "log", "log1p", "log2", "reciprocal")
    x = array((4, 5), dtype, 1 if positive else -3, 3)
    expected = 1.0 / x if name == "reciprocal" else getattr(np, name)(x)   # Keras: float for integers too
    check(getattr(ops, name)(x), expected, x, rtol=1e-5)


REDUCTIONS = ["sum", "mean", "max", "min", "prod", "std", "var", "all", "any"]
AXES = [None, -1, 0, (0, -1), (-2,)]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_over_axes(name, axis, keepdims):
    x = array((3, 4, 5), "float32", 0.5, 1.5) if name != "all" and name != "any" else array((3, 4, 5)) > 0
    check(getattr(ops, name)(x, axis=axis, keepdims=keepdims), getattr(np, name)(x, axis=axis, keepdims=keepdims), x,
          rtol=1e-4)


def test_integer_reductions_keep_keras_dtypes():
    x = array((4, 6), "int32", -5, 5)
    check(ops.sum(x, axis=-1), np.sum(x, axis=-1).astype("int32"), x)
    check(ops.mean(x, axis=0), np.mean(x, axis=0), x)                       # float32, not float64
    check(ops.argmax(x, axis=-1), np.argmax(x, axis=-1), x, dtype="int32")
    check(ops.argmin(x), np.argmin(x), x, dtype="int32")
    check(ops.cumsum(x, axis=-1), np.cumsum(x, axis=-1).astype("int32"), x)
    check(ops.cumprod(x, axis=0), np.cumprod(x, axis=0).astype("int32"), x)
    check(ops.sum(x > 0), np.sum(x > 0).astype("int32"), x, dtype="int32")


def test_statistics_and_sorting():
    x = array((5, 6))
    check(ops.median(x, axis=-1), np.median(x, axis=-1), x)
    check(ops.quantile(x, [0.25, 0.9], axis=0), np.quantile(x, [0.25, 0.9], axis=0), x)
    check(ops.logsumexp(x, axis=-1), np.log(np.exp(x).sum(-1)), x)
    check(ops.sort(x, axis=0), np.sort(x, axis=0), x)
    check(ops.argsort(x, axis=-1), np.argsort(x, axis=-1, kind="stable"), x, dtype="int32")
    values, indices = ops.top_k(x, 2)
    check(values, -np.sort(-x, axis=-1)[:, :2], x)
    check(indices, np.argsort(-x, axis=-1, kind="stable")[:, :2], x, dtype="int32")
    check(ops.average(x, axis=1, weights=np.arange(1, 7, dtype="float32")),
          np.average(x, axis=1, weights=np.arange(1, 7)), x)


def test_shape_functions_with_negative_axes():
    x = array((2, 3, 4))
    check(ops.reshape(x, (-1, 4)), x.reshape(-1, 4), x)
    check(ops.transpose(x), x.T, x)
    check(ops.transpose(x, (1, 0, 2)), x.transpose(1, 0, 2), x)
    check(ops.expand_dims(x, -1), np.expand_dims(x, -1), x)
    check(ops.squeeze(x[:, :1], axis=-2), np.squeeze(x[:, :1], axis=-2), x)
    check(ops.swapaxes(x, 0, -1), np.swapaxes(x, 0, -1), x)
    check(ops.moveaxis(x, 0, -1), np.moveaxis(x, 0, -1), x)
    check(ops.flip(x, -1), np.flip(x, -1), x)
    check(ops.roll(x, 2, axis=-1), np.roll(x, 2, axis=-1), x)
    check(ops.roll(x, 3), np.roll(x, 3), x)
    check(ops.tile(x, (2, 1, 1)), np.tile(x, (2, 1, 1)), x)
    check(ops.repeat(x, 2, axis=-1), np.repeat(x, 2, axis=-1), x)
    check(ops.broadcast_to(x[:, :1], (2, 3, 4)), np.broadcast_to(x[:, :1], (2, 3, 4)), x)
    check(ops.concatenate([x, x], axis=-1), np.concatenate([x, x], axis=-1), x)
    check(ops.stack([x, x], axis=-2), np.stack([x, x], axis=-2), x)
    for piece, expected in zip(ops.split(x, 2, axis=-1), np.split(x, 2, axis=-1)):
        check(piece, expected, x)
    for piece, expected in zip(ops.split(x, [1, 3], axis=-1), np.split(x, [1, 3], axis=-1)):
        check(piece, expected, x)


def test_indexing_functions():
    x = array((3, 5))
    indices = np.array([[0, -1], [2, 1]])
    check(ops.take(x, indices, axis=-1), np.take(x, indices, axis=-1), x)
    check(ops.take(x, [4, 0]), np.take(x, [4, 0]), x)
    order = np.argsort(x, axis=-1)
    check(ops.take_along_axis(x, order, axis=-1), np.take_along_axis(x, order, axis=-1), x)
    check(ops.where(x > 0, x, 0.0), np.where(x > 0, x, 0.0).astype("float32"), x)
    check(ops.clip(x, -0.5, 0.5), np.clip(x, -0.5, 0.5), x)
    check(ops.digitize(x, np.array([-1.0, 0.0, 1.0], "float32")), np.digitize(x, [-1.0, 0.0, 1.0]), x, dtype="int32")


@pytest.mark.parametrize("mode", ["constant", "reflect", "symmetric", "edge", "wrap"])
def test_pad_modes(mode):
    x = array((3, 4))
    check(ops.pad(x, ((1, 2), (3, 1)), mode=mode), np.pad(x, ((1, 2), (3, 1)), mode=mode), x)


def test_matrix_products_broadcast():
    a, b = array((2, 3, 4)), array((4, 5))
    check(ops.matmul(a, b), np.matmul(a, b), a, b, rtol=1e-5)
    c = array((2, 4, 3))
    check(ops.dot(a, c), np.dot(a, c), a, c, rtol=1e-5)
    check(ops.tensordot(a, c, axes=([2], [1])), np.tensordot(a, c, axes=([2], [1])), a, c, rtol=1e-5)
    check(ops.einsum("bij,jk->bik", a, b), np.einsum("bij,jk->bik", a, b), a, b, rtol=1e-5)
    check(ops.outer(b[0], b[1]), np.outer(b[0], b[1]), b)
    u, v = array((4, 3)), array((3,))
    check(ops.cross(u, v), np.cross(u, v), u, v, rtol=1e-5)
    check(ops.matmul(np.ones((2, 3), "int32"), np.ones((3,), "int32")), np.ones((2, 3), "int32") @ np.ones(3, "int32"),
          np.ones(1, "int32"))


def test_creation_functions():
    check(ops.arange(5), np.arange(5, dtype="int32"), np.ones(1, "int32"))
    check(ops.arange(0.0, 1.0, 0.25), np.arange(0.0, 1.0, 0.25).astype("float32"))
    check(ops.linspace(0, 1, 5), np.linspace(0, 1, 5).astype("float32"))
    check(ops.eye(3, 4, k=1), np.eye(3, 4, k=1).astype("float32"))
    check(ops.tri(3), np.tri(3).astype("float32"))
    x = array((4, 4))
    check(ops.tril(x, -1), np.tril(x, -1), x)
    check(ops.triu(x, 1), np.triu(x, 1), x)
    check(ops.diag(x), np.diag(x), x)
    check(ops.trace(x), np.trace(x), x)
    check(ops.zeros((2, 3)), np.zeros((2, 3), "float32"))
    check(ops.full((2,), 7), np.full((2,), 7, "int32"), np.ones(1, "int32"))
    check(ops.ones_like(x, dtype="int32"), np.ones_like(x, dtype="int32"), dtype="int32")


def test_incompatible_shapes_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\)"):
        ops.add(np.ones((2, 3)), np.ones(4))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        ops.matmul(np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 4\)"):
        ops.concatenate([np.ones((2, 3)), np.ones((2, 4))], axis=0)
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*\(4, -1\)"):
        ops.reshape(np.ones((2, 3)), (4, -1))
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        ops.sum(np.ones((2, 3)), axis=3)


# ---------------------------------------------------------------- core


def test_control_flow():
    assert int(ops.cond(ops.convert_to_tensor(True), lambda: 1, lambda: 2)) == 1
    count, total = ops.while_loop(lambda i, t: i < 5, lambda i, t: (i + 1, t + i), (0, 0))
    assert (int(count), int(total)) == (5, 10)
    assert int(ops.while_loop(lambda i: i < 100, lambda i: i * 2, 1, maximum_iterations=3)) == 8
    assert int(ops.fori_loop(0, 4, lambda i, v: v + i, 0)) == 6
    xs = array((6, 2))
    carry, ys = ops.scan(lambda c, x: (c + x, c + x), np.zeros(2, "float32"), xs)
    check(ys, np.cumsum(xs, axis=0), xs)
    check(carry, xs.sum(0), xs)
    _, reversed_ys = ops.scan(lambda c, x: (c + x, c + x), np.zeros(2, "float32"), xs, reverse=True)
    check(reversed_ys, np.cumsum(xs[::-1], axis=0)[::-1], xs)
    check(ops.map(lambda row: row * 2, xs), xs * 2, xs)
    assert int(ops.switch(5, [lambda x: x, lambda x: x * 10], 3)) == 30


def test_compiled_cond_stays_in_one_graph():
    def f(x):
        return ops.cond(x.sum() > 0, lambda: x * 2, lambda: x - 1)

    compiled = torch.compile(f, fullgraph=True, backend="eager")
    x = torch.ones(3)
    assert torch.equal(compiled(x), f(x)) and torch.equal(compiled(-x), f(-x))


def test_slicing_scattering_and_segments():
    x = array((4, 5))
    check(ops.slice(x, (1, 2), (2, 3)), x[1:3, 2:5], x)
    updated = ops.slice_update(x, (0, 1), np.zeros((2, 2), "float32"))
    expected = x.copy()
    expected[0:2, 1:3] = 0
    check(updated, expected, x)
    check(ops.scatter([[0, 1], [0, 1], [2, 0]], np.array([1.0, 2.0, 5.0], "float32"), (3, 2)),
          np.array([[0, 3], [0, 0], [5, 0]], "float32"))
    check(ops.scatter_update(np.zeros((3, 2), "float32"), [[1]], np.ones((1, 2), "float32")),
          np.array([[0, 0], [1, 1], [0, 0]], "float32"))
    ids = np.array([0, 0, 2, 1])
    check(ops.segment_sum(x, ids), np.stack([x[:2].sum(0), x[3], x[2]]), x)
    check(ops.segment_max(x, ids, num_segments=3), np.stack([x[:2].max(0), x[3], x[2]]), x)
    with pytest.raises(ValueError, match=r"does not fit in a tensor of shape \(4, 5\)"):
        ops.slice(x, (3, 0), (2, 2))


def test_conversion_queries():
    x = ops.cast(np.arange(6).reshape(2, 3), "float16")
    assert ops.shape(x) == (2, 3) and ops.dtype(x) == "float16" and ops.ndim(x) == 2 and ops.size(x) == 6
    assert ops.is_tensor(x) and not ops.is_tensor(np.ones(2))
    assert int(ops.saturate_cast(np.array([300.0]), "uint8")[0]) == 255
    y = torch.ones(2, requires_grad=True)
    assert not ops.stop_gradient(y).requires_grad and isinstance(ops.convert_to_numpy(y), np.ndarray)


# ------------------------------------------------------------------ nn


def test_activations_and_encodings():
    x = array((3, 5))
    check(ops.relu(x), np.maximum(x, 0), x)
    check(ops.sigmoid(x), 1 / (1 + np.exp(-x)), x)
    softmax = np.exp(x) / np.exp(x).sum(-1, keepdims=True)
    check(ops.softmax(x), softmax, x)
    check(ops.nn.softmax(x, axis=(0, 1)), np.exp(x) / np.exp(x).sum(), x)
    check(ops.log_softmax(x, axis=-1), np.log(softmax), x, rtol=1e-5)
    check(ops.gelu(x), 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))), x, rtol=1e-5)
    check(ops.one_hot(np.array([0, 2, -1]), 3), np.array([[1, 0, 0], [0, 0, 1], [0, 0, 0]], "float32"))
    check(ops.multi_hot(np.array([[0, 2], [1, 1]]), 3), np.array([[1, 0, 1], [0, 1, 0]], "float32"))


def test_losses_match_their_formulas():
    target = (array((4, 3)) > 0).astype("float32")
    output = array((4, 3), low=0.05, high=0.95)
    bce = -(target * np.log(output) + (1 - target) * np.log(1 - output))
    check(ops.binary_crossentropy(target, output), bce, target, rtol=1e-5)
    logits = array((4, 3))
    check(ops.binary_crossentropy(target, logits, from_logits=True),
          -(target * np.log(1 / (1 + np.exp(-logits))) + (1 - target) * np.log(1 - 1 / (1 + np.exp(-logits)))),
          target, rtol=1e-5)
    labels = np.array([0, 2, 1, 1])
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    check(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True), -log_p[np.arange(4), labels],
          logits, rtol=1e-5)
    check(ops.categorical_crossentropy(np.eye(3, dtype="float32")[labels], np.exp(log_p)), -log_p[np.arange(4), labels],
          logits, rtol=1e-5)


def naive_conv2d(x, kernel, stride):
    windows = np.lib.stride_tricks.sliding_window_view(x, kernel.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("bhwcij,ijco->bhwo", windows, kernel)


@pytest.mark.parametrize("stride", [1, 2])
def test_conv_matches_a_sliding_window_product(stride):
    x, kernel = array((2, 7, 6, 3)), array((3, 2, 3, 4))
    check(ops.conv(x, kernel, strides=stride), naive_conv2d(x, kernel, stride), x, rtol=1e-4, atol=1e-5)
    same = ops.conv(x, kernel, strides=stride, padding="same")
    assert ops.shape(same) == (2, -(-7 // stride), -(-6 // stride), 4)
    padded = np.pad(x, ((0, 0), (1, 1), (0, 1), (0, 0))) if stride == 1 else None
    if padded is not None:
        check(same, naive_conv2d(padded, kernel, 1), x, rtol=1e-4, atol=1e-5)


def test_depthwise_separable_and_transposed_convolutions():
    x, depthwise = array((1, 5, 5, 2)), array((3, 3, 2, 2))
    expected = np.concatenate([naive_conv2d(x[..., c:c + 1], depthwise[:, :, c:c + 1, :], 1) for c in range(2)], -1)
    check(ops.depthwise_conv(x, depthwise), expected, x, rtol=1e-4, atol=1e-5)
    pointwise = array((1, 1, 4, 3))
    check(ops.separable_conv(x, depthwise, pointwise), naive_conv2d(expected, pointwise, 1), x, rtol=1e-4, atol=1e-5)
    # a transposed convolution is the adjoint of the convolution with the same kernel
    kernel = array((3, 3, 2, 4))
    y = array((1, 3, 3, 4))
    forward = ops.conv(x, kernel, strides=2, padding="same")
    backward = ops.conv_transpose(y, np.transpose(kernel, (0, 1, 2, 3)), strides=2, padding="same")
    assert ops.shape(backward) == (1, 6, 6, 2)
    left = float(ops.sum(forward * ops.convert_to_tensor(y)))
    right = float(ops.sum(backward[:, :5, :5] * ops.convert_to_tensor(x)))
    assert left == pytest.approx(right, rel=1e-4)
    assert ops.shape(ops.conv_transpose(y, kernel, strides=2)) == (1, 7, 7, 2)


def test_pooling():
    x = array((2, 6, 4, 3))
    windows = np.lib.stride_tricks.sliding_window_view(x, (2, 2), axis=(1, 2))[:, ::2, ::2]
    check(ops.max_pool(x, 2), windows.max(axis=(-2, -1)), x)
    check(ops.average_pool(x, 2), windows.mean(axis=(-2, -1)), x)
    same = ops.average_pool(x[:, :5], 2, padding="same")   # the edge windows average their real values only
    check(same[:, -1, 0], x[:, 4, 0:2].mean(axis=1), x)


def test_normalisation_and_attention():
    x = array((4, 6))
    mean, variance = ops.moments(x, axes=[0])
    check(mean, x.mean(0), x)
    check(variance, x.var(0), x)
    check(ops.batch_normalization(x, mean, variance, axis=-1, epsilon=0.0), (x - x.mean(0)) / x.std(0), x, rtol=1e-4,
          atol=1e-5)
    check(ops.normalize(x), x / np.linalg.norm(x, axis=-1, keepdims=True), x)
    q, k, v = array((2, 3, 1, 4)), array((2, 5, 1, 4)), array((2, 5, 1, 4))
    scores = np.einsum("bqhd,bkhd->bhqk", q, k) / 2.0
    weights = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    check(ops.dot_product_attention(q, k, v), np.einsum("bhqk,bkhd->bqhd", weights, v), q, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------- image, linalg


def test_image_functions():
    images = array((2, 4, 6, 3))
    check(ops.image.resize(images, (2, 3), interpolation="nearest"), images[:, 1::2, 1::2], images)  # half-pixel centres, as TF
    assert ops.shape(ops.image.resize(images[0], (8, 12))) == (8, 12, 3)
    check(ops.image.rgb_to_grayscale(images), (images @ np.array([0.2989, 0.5870, 0.1140], "float32"))[..., None],
          images, rtol=1e-5)
    patches = ops.image.extract_patches(images, 2)
    check(patches[:, 1, 2], images[:, 2:4, 4:6].reshape(2, -1), images)
    check(ops.image.crop_images(images, 1, 2, target_height=2, target_width=3), images[:, 1:3, 2:5], images)
    check(ops.image.pad_images(images, 1, 0, target_height=6, target_width=7),
          np.pad(images, ((0, 0), (1, 1), (0, 1), (0, 0))), images)


def test_linalg_functions():
    a = array((3, 3)) + 3 * np.eye(3, dtype="float32")
    b = array((3, 2))
    check(ops.linalg.inv(a), np.linalg.inv(a), a, rtol=1e-4)
    check(ops.linalg.det(a), np.linalg.det(a), a, rtol=1e-4)
    check(ops.linalg.solve(a, b), np.linalg.solve(a, b), a, rtol=1e-4, atol=1e-5)
    check(ops.norm(b, axis=-1), np.linalg.norm(b, axis=-1), b)
    check(ops.norm(a), np.linalg.norm(a), a)
    check(ops.linalg.norm(a, ord=1, axis=(0, 1)), np.linalg.norm(a, ord=1, axis=(0, 1)), a)
    spd = a @ a.T
    check(ops.linalg.cholesky(spd), np.linalg.cholesky(spd), a, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"\(3, 3\).*\(4, 2\)"):
        ops.linalg.solve(a, np.ones((4, 2), "float32"))


# ----------------------------------------------------- a layer written with ops


class OpsDense(layers.Layer):
    """The keras.io subclassing guide's Linear layer, in ops."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        return ops.relu(ops.matmul(inputs, self.w) + self.b)


def test_a_layer_written_with_ops_trains_and_is_a_plain_module():
    model = ember.Sequential([ember.Input((4,)), OpsDense(8), layers.Dense(1)])
    model.compile("adam", "mse")
    x, y = array((64, 4)), array((64, 1))
    history = model.fit(x, y, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    traced = torch.compile(model.layers[0], fullgraph=True, backend="eager")
    assert torch.allclose(traced(torch.as_tensor(x)), model.layers[0](torch.as_tensor(x)))
