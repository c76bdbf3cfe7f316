"""`ember.ops`: Keras 3's `keras.ops` over torch, so that layers written with `ops` run here and stay
plain torch modules. NumPy-style functions (math, reductions, arrays), core conversion and control
flow, `ops.nn`, `ops.image` and `ops.linalg`; nn and linalg functions are also at the top level, as
in Keras. What is not covered is listed in the README's "Keras 3 code" section."""

from ember.ops import core, image, linalg, nn
from ember.ops.math import (  # noqa: A004 - Keras's names shadow builtins here
    abs, absolute, add, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, binary,
    bitwise_and, bitwise_or, bitwise_xor, ceil, clip, conj, conjugate, copysign, cos, cosh, divide,
    divide_no_nan, equal, erf, erfinv, exp, exp2, expm1, floor, floor_divide, greater,
    greater_equal, hypot, imag, isclose, isfinite, isinf, isnan, less, less_equal, log, log10,
    log1p, log2, logaddexp, logical_and, logical_not, logical_or, logical_xor, maximum, minimum,
    mod, multiply, nan_to_num, negative, not_equal, power, real, reciprocal, round, rsqrt, sign,
    sin, sinh, sqrt, square, subtract, tan, tanh, true_divide, trunc, where,
)
from ember.ops.reductions import (  # noqa: A004 - Keras's names shadow builtins here
    all, amax, amin, any, argmax, argmin, argsort, average, bincount, count_nonzero, cumprod,
    cumsum, in_top_k, logsumexp, max, mean, median, min, prod, quantile, sort, std, sum, top_k, var,
)
from ember.ops.arrays import (  # noqa: A004 - Keras's names shadow builtins here
    append, arange, broadcast_to, concatenate, cross, diag, diagonal, diff, digitize, dot, einsum,
    empty, expand_dims, eye, flip, full, full_like, hstack, identity, inner, linspace, logspace,
    matmul, meshgrid, moveaxis, nonzero, ones, ones_like, outer, pad, ravel, repeat, reshape, roll,
    split, squeeze, stack, swapaxes, take, take_along_axis, tensordot, tile, trace,
    transpose, tri, tril, triu, unstack, vdot, vstack, zeros, zeros_like,
)
from ember.ops.core import (  # noqa: A004 - Keras's names shadow builtins here
    cast, cond, convert_to_numpy, convert_to_tensor, copy, dtype, fori_loop, is_tensor, map, ndim,
    saturate_cast, scan, scatter, scatter_update, segment_max, segment_sum, shape, size, slice,
    slice_update, stop_gradient, switch, vectorized_map, while_loop,
)
from ember.ops.nn import (  # noqa: A004 - Keras's names shadow builtins here
    average_pool, batch_normalization, binary_crossentropy, categorical_crossentropy, conv,
    conv_transpose, depthwise_conv, dot_product_attention, elu, gelu, glu, hard_sigmoid, hard_silu,
    hard_swish, leaky_relu, log_sigmoid, log_softmax, max_pool, mish, moments, multi_hot, normalize,
    one_hot, psnr, relu, relu6, selu, separable_conv, sigmoid, silu, softmax, softplus, softsign,
    sparse_categorical_crossentropy, swish, tanh_shrink,
)
from ember.ops.linalg import (  # noqa: A004 - Keras's names shadow builtins here
    cholesky, det, eig, eigh, inv, norm, qr, solve, solve_triangular, svd,
)

__all__ = [
    'abs', 'absolute', 'add', 'all', 'amax', 'amin', 'any', 'append', 'arange', 'arccos', 'arccosh',
    'arcsin', 'arcsinh', 'arctan', 'arctan2', 'arctanh', 'argmax', 'argmin', 'argsort', 'average',
    'average_pool', 'batch_normalization', 'binary_crossentropy', 'bincount',
    'bitwise_and', 'bitwise_or', 'bitwise_xor', 'broadcast_to', 'cast', 'categorical_crossentropy',
    'ceil', 'cholesky', 'clip', 'concatenate', 'cond', 'conj', 'conjugate', 'conv',
    'conv_transpose', 'convert_to_numpy', 'convert_to_tensor', 'copy', 'copysign', 'core', 'cos',
    'cosh', 'count_nonzero', 'cross', 'cumprod', 'cumsum', 'depthwise_conv', 'det', 'diag',
    'diagonal', 'diff', 'digitize', 'divide', 'divide_no_nan', 'dot', 'dot_product_attention',
    'dtype', 'eig', 'eigh', 'einsum', 'elu', 'empty', 'equal', 'erf', 'erfinv', 'exp', 'exp2',
    'expand_dims', 'expm1', 'eye', 'flip', 'floor', 'floor_divide', 'fori_loop', 'full',
    'full_like', 'gelu', 'glu', 'greater', 'greater_equal', 'hard_sigmoid', 'hard_silu',
    'hard_swish', 'hstack', 'hypot', 'identity', 'imag', 'image', 'in_top_k', 'inner', 'inv',
    'is_tensor', 'isclose', 'isfinite', 'isinf', 'isnan', 'leaky_relu', 'less', 'less_equal',
    'linalg', 'linspace', 'log', 'log10', 'log1p', 'log2', 'log_sigmoid', 'log_softmax',
    'logaddexp', 'logical_and', 'logical_not', 'logical_or', 'logical_xor', 'logspace', 'logsumexp',
    'map', 'matmul', 'max', 'max_pool', 'maximum', 'mean', 'median', 'meshgrid', 'min', 'minimum',
    'mish', 'mod', 'moments', 'moveaxis', 'multi_hot', 'multiply', 'nan_to_num', 'ndim', 'negative',
    'nn', 'nonzero', 'norm', 'normalize', 'not_equal', 'one_hot', 'ones', 'ones_like',
    'outer', 'pad', 'power', 'prod', 'psnr', 'qr', 'quantile', 'ravel', 'real', 'reciprocal',
    'relu', 'relu6', 'repeat', 'reshape', 'roll', 'round', 'rsqrt', 'saturate_cast', 'scan',
    'scatter', 'scatter_update', 'segment_max', 'segment_sum', 'selu', 'separable_conv', 'shape',
    'sigmoid', 'sign', 'silu', 'sin', 'sinh', 'size', 'slice', 'slice_update',
    'softmax', 'softplus', 'softsign', 'solve', 'solve_triangular', 'sort',
    'sparse_categorical_crossentropy', 'split', 'sqrt', 'square', 'squeeze', 'stack', 'std',
    'stop_gradient', 'subtract', 'sum', 'svd', 'swapaxes', 'swish', 'switch', 'take',
    'take_along_axis', 'tan', 'tanh', 'tanh_shrink', 'tensordot', 'tile',
    'top_k', 'trace', 'transpose', 'tri', 'tril', 'triu', 'true_divide', 'trunc',
    'unstack', 'var', 'vdot', 'vectorized_map', 'vstack', 'where', 'while_loop', 'zeros',
    'zeros_like',
]
