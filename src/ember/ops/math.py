"""Elementwise NumPy-style functions of `keras.ops`: arithmetic, comparisons, logic, exponentials,
trigonometry, rounding. Inputs broadcast as in NumPy; dtypes follow `ops._convert`'s rules."""

from __future__ import annotations

from typing import Any

import torch

from ember.ops._convert import binary, floating, tensor, tensors, unary

# ------------------------------------------------------------------ arithmetic
add = binary(torch.add, "add", "x1 + x2, broadcast.")
subtract = binary(torch.subtract, "subtract", "x1 - x2, broadcast.")
multiply = binary(torch.multiply, "multiply", "x1 * x2, broadcast.")
power = binary(torch.pow, "power", "x1 ** x2, broadcast.")
maximum = binary(torch.maximum, "maximum", "Elementwise larger of x1 and x2.")
minimum = binary(torch.minimum, "minimum", "Elementwise smaller of x1 and x2.")
mod = binary(torch.remainder, "mod", "x1 modulo x2 with the sign of x2 (NumPy's `mod`).")
floor_divide = binary(torch.floor_divide, "floor_divide", "x1 // x2 (rounded towards minus infinity).")
arctan2 = binary(lambda a, b: torch.atan2(floating(a), floating(b)), "arctan2", "atan(x1 / x2) in the right quadrant.")
logaddexp = binary(lambda a, b: torch.logaddexp(floating(a), floating(b)), "logaddexp", "log(exp(x1) + exp(x2)).")
hypot = binary(lambda a, b: torch.hypot(floating(a), floating(b)), "hypot", "sqrt(x1**2 + x2**2).")
copysign = binary(lambda a, b: torch.copysign(floating(a), b), "copysign", "|x1| with the sign of x2.")


divide = true_divide = binary(torch.true_divide, "divide", "x1 / x2 (true division: integers give float32).")


def divide_no_nan(x1: Any, x2: Any) -> torch.Tensor:
    """x1 / x2, with 0 where x2 is 0."""
    x1, x2 = tensors(x1, x2)
    quotient = divide(x1, x2)
    return torch.where(x2 == 0, torch.zeros_like(quotient), quotient)


negative = unary(torch.negative, "negative", "-x.")
absolute = unary(torch.abs, "absolute", "|x|.")
abs = absolute  # noqa: A001 - Keras's name
sign = unary(torch.sign, "sign", "-1, 0 or 1 by the sign of x.")
square = unary(torch.square, "square", "x * x.")
sqrt = unary(torch.sqrt, "sqrt", "Square root (float).", float_valued=True)
rsqrt = unary(torch.rsqrt, "rsqrt", "1 / sqrt(x) (float).", float_valued=True)
reciprocal = unary(torch.reciprocal, "reciprocal", "1 / x (float).", float_valued=True)
conj = conjugate = unary(torch.conj, "conj", "Complex conjugate.")
real = unary(torch.real, "real", "Real part.")
imag = unary(torch.imag, "imag", "Imaginary part.")

# --------------------------------------------------------- exponentials, logs
exp = unary(torch.exp, "exp", "e ** x (float).", float_valued=True)
exp2 = unary(torch.exp2, "exp2", "2 ** x (float).", float_valued=True)
expm1 = unary(torch.expm1, "expm1", "exp(x) - 1 (float).", float_valued=True)
log = unary(torch.log, "log", "Natural logarithm (float).", float_valued=True)
log2 = unary(torch.log2, "log2", "Base-2 logarithm (float).", float_valued=True)
log10 = unary(torch.log10, "log10", "Base-10 logarithm (float).", float_valued=True)
log1p = unary(torch.log1p, "log1p", "log(1 + x) (float).", float_valued=True)
erf = unary(torch.erf, "erf", "The error function (float).", float_valued=True)
erfinv = unary(torch.erfinv, "erfinv", "The inverse error function (float).", float_valued=True)

# --------------------------------------------------------------- trigonometry
sin = unary(torch.sin, "sin", "Sine (float).", float_valued=True)
cos = unary(torch.cos, "cos", "Cosine (float).", float_valued=True)
tan = unary(torch.tan, "tan", "Tangent (float).", float_valued=True)
arcsin = unary(torch.asin, "arcsin", "Inverse sine (float).", float_valued=True)
arccos = unary(torch.acos, "arccos", "Inverse cosine (float).", float_valued=True)
arctan = unary(torch.atan, "arctan", "Inverse tangent (float).", float_valued=True)
sinh = unary(torch.sinh, "sinh", "Hyperbolic sine (float).", float_valued=True)
cosh = unary(torch.cosh, "cosh", "Hyperbolic cosine (float).", float_valued=True)
tanh = unary(torch.tanh, "tanh", "Hyperbolic tangent (float).", float_valued=True)
arcsinh = unary(torch.asinh, "arcsinh", "Inverse hyperbolic sine (float).", float_valued=True)
arccosh = unary(torch.acosh, "arccosh", "Inverse hyperbolic cosine (float).", float_valued=True)
arctanh = unary(torch.atanh, "arctanh", "Inverse hyperbolic tangent (float).", float_valued=True)

# ------------------------------------------------------------------- rounding


def _keep_integers(function: Any) -> Any:
    return lambda x: x if not (x.is_floating_point() or x.is_complex()) else function(x)


floor = unary(_keep_integers(torch.floor), "floor", "Largest integer <= x (integers unchanged).")
ceil = unary(_keep_integers(torch.ceil), "ceil", "Smallest integer >= x (integers unchanged).")
trunc = unary(_keep_integers(torch.trunc), "trunc", "x rounded towards zero (integers unchanged).")


def round(x: Any, decimals: int = 0) -> torch.Tensor:  # noqa: A001 - Keras's name
    """x rounded half to even (NumPy's rule) to `decimals` places."""
    x = tensor(x)
    if not x.is_floating_point():
        return x
    return torch.round(x, decimals=decimals)


def clip(x: Any, x_min: Any, x_max: Any) -> torch.Tensor:
    """x limited to [x_min, x_max]."""
    x = tensor(x)
    return torch.clamp(x, min=x_min, max=x_max)


def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> torch.Tensor:
    """x with NaN and infinities replaced by finite numbers."""
    return torch.nan_to_num(tensor(x), nan=nan, posinf=posinf, neginf=neginf)


# --------------------------------------------------------- comparisons, logic
equal = binary(torch.eq, "equal", "x1 == x2 (booleans).")
not_equal = binary(torch.ne, "not_equal", "x1 != x2 (booleans).")
greater = binary(torch.gt, "greater", "x1 > x2 (booleans).")
greater_equal = binary(torch.ge, "greater_equal", "x1 >= x2 (booleans).")
less = binary(torch.lt, "less", "x1 < x2 (booleans).")
less_equal = binary(torch.le, "less_equal", "x1 <= x2 (booleans).")
logical_and = binary(torch.logical_and, "logical_and", "x1 and x2 (booleans).")
logical_or = binary(torch.logical_or, "logical_or", "x1 or x2 (booleans).")
logical_xor = binary(torch.logical_xor, "logical_xor", "x1 xor x2 (booleans).")
logical_not = unary(torch.logical_not, "logical_not", "not x (booleans).")
bitwise_and = binary(torch.bitwise_and, "bitwise_and", "Bitwise x1 & x2 (integers, booleans).")
bitwise_or = binary(torch.bitwise_or, "bitwise_or", "Bitwise x1 | x2 (integers, booleans).")
bitwise_xor = binary(torch.bitwise_xor, "bitwise_xor", "Bitwise x1 ^ x2 (integers, booleans).")
isnan = unary(torch.isnan, "isnan", "Whether x is NaN.")
isinf = unary(torch.isinf, "isinf", "Whether x is infinite.")
isfinite = unary(torch.isfinite, "isfinite", "Whether x is finite.")


def isclose(x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> torch.Tensor:
    """|x1 - x2| <= atol + rtol * |x2|, elementwise."""
    x1, x2 = tensors(x1, x2)
    dtype = torch.promote_types(x1.dtype, x2.dtype)
    return torch.isclose(x1.to(dtype), x2.to(dtype), rtol=rtol, atol=atol, equal_nan=equal_nan)


def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
    """x1 where `condition` holds, else x2 (broadcast); with one argument, the indices of the true
    entries as a tuple of int tensors, one per axis (NumPy's `nonzero`)."""
    condition = tensor(condition)
    if x1 is None and x2 is None:
        return torch.nonzero(condition, as_tuple=True)
    if x1 is None or x2 is None:
        raise ValueError("ops.where takes a condition alone, or a condition with both x1 and x2.")
    x1, x2 = tensors(x1, x2)
    try:
        return torch.where(condition.bool(), x1, x2)
    except RuntimeError as error:
        raise ValueError(f"ops.where: incompatible shapes {tuple(condition.shape)}, {tuple(x1.shape)} and "
                         f"{tuple(x2.shape)}: {error}") from None
