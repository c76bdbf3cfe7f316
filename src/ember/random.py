"""Keras 3's `keras.random` on torch: random tensors that repeat under a seed.

As in Keras, an integer `seed` makes a call stateless (the same seed, the same values); a
`SeedGenerator` gives new values at each call and the same sequence for the same starting seed;
`seed=None` draws from torch's global generator (`ember.utils.set_random_seed` sets it). Tensors are
made on the configured device (`ember.config.get_device()`), or on the input's device.
"""

from __future__ import annotations

from typing import Any

import torch

from ember import config

_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64,
           "int8": torch.int8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64, "uint8": torch.uint8}


class SeedGenerator:
    """A stateful source of seeds: pass it as `seed=` for different values at each call, repeatable
    from the same starting `seed` (a random one when None)."""

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise TypeError(f"SeedGenerator: seed must be an integer or None; got {seed!r}.")
        self.name = name or "seed_generator"
        self.initial_seed = int(torch.randint(0, 2**31 - 1, ()).item()) if seed is None else seed
        self.calls = 0

    def next(self, ordered: bool = True) -> int:
        """The seed for the next random call (and advances the state)."""
        self.calls += 1
        return (self.initial_seed * 1_000_003 + self.calls * 7_919) % (2**63 - 1)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config_dict: dict[str, Any]) -> "SeedGenerator":
        return cls(**config_dict)


def _generator(seed: Any, device: torch.device) -> torch.Generator | None:
    """A torch generator for `seed` (None: the global one)."""
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        seed = seed.next()
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an integer, a SeedGenerator or None; got {seed!r}.")
    return torch.Generator(device=device).manual_seed(seed)


def _dtype(dtype: Any, default: torch.dtype) -> torch.dtype:
    if dtype is None:
        return default
    if isinstance(dtype, torch.dtype):
        return dtype
    name = getattr(dtype, "name", None) or str(dtype)
    if name not in _DTYPES:
        raise ValueError(f"Unknown dtype {dtype!r}; expected one of {sorted(_DTYPES)}.")
    return _DTYPES[name]


def _shape(shape: Any) -> tuple[int, ...]:
    shape = (shape,) if isinstance(shape, int) else tuple(int(d) for d in shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"A random tensor's shape must be non-negative sizes; got {shape}.")
    return shape


def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Samples of N(mean, stddev²), of `shape`."""
    device = config.get_device()
    values = torch.randn(_shape(shape), generator=_generator(seed, device), device=device, dtype=torch.float32)
    return (values * stddev + mean).to(_dtype(dtype, config.float_dtype()))


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                     seed: Any = None) -> torch.Tensor:
    """Normal samples redrawn until within two standard deviations of the mean (Keras's rule)."""
    device = config.get_device()
    values = torch.empty(_shape(shape), device=device, dtype=torch.float32)
    torch.nn.init.trunc_normal_(values, 0.0, 1.0, -2.0, 2.0, generator=_generator(seed, device))
    return (values * stddev + mean).to(_dtype(dtype, config.float_dtype()))


def uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Samples of U[minval, maxval), of `shape`."""
    if not maxval > minval:
        raise ValueError(f"uniform: maxval must exceed minval; got minval={minval}, maxval={maxval}.")
    device = config.get_device()
    values = torch.rand(_shape(shape), generator=_generator(seed, device), device=device, dtype=torch.float32)
    return (values * (maxval - minval) + minval).to(_dtype(dtype, config.float_dtype()))


def randint(shape: Any, minval: int, maxval: int, dtype: Any = "int32", seed: Any = None) -> torch.Tensor:
    """Integers drawn uniformly from [minval, maxval), of `shape`."""
    if not maxval > minval:
        raise ValueError(f"randint: maxval must exceed minval; got minval={minval}, maxval={maxval}.")
    device = config.get_device()
    return torch.randint(int(minval), int(maxval), _shape(shape), generator=_generator(seed, device),
                         device=device).to(_dtype(dtype, torch.int32))


def dropout(inputs: torch.Tensor, rate: float, noise_shape: Any = None, seed: Any = None) -> torch.Tensor:
    """`inputs` with a `rate` share of entries zeroed and the rest scaled by 1 / (1 - rate); a
    `noise_shape` (None entries taken from the input) shares one draw along axes of size 1."""
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1); got {rate!r}.")
    inputs = torch.as_tensor(inputs)
    shape = tuple(inputs.shape) if noise_shape is None else tuple(
        size if wanted is None else int(wanted) for size, wanted in zip(inputs.shape, noise_shape))
    keep = torch.rand(shape, generator=_generator(seed, inputs.device), device=inputs.device) >= rate
    return inputs * keep.to(inputs.dtype) / (1.0 - rate)


def shuffle(x: torch.Tensor, axis: int = 0, seed: Any = None) -> torch.Tensor:
    """`x` with its entries along `axis` in a random order."""
    x = torch.as_tensor(x)
    axis = axis % x.ndim if x.ndim else 0
    order = torch.randperm(x.shape[axis], generator=_generator(seed, x.device), device=x.device)
    return x.index_select(axis, order)


def categorical(logits: torch.Tensor, num_samples: int, dtype: Any = "int32", seed: Any = None) -> torch.Tensor:
    """Class ids `(batch, num_samples)` drawn from the softmax of `logits` `(batch, classes)`."""
    logits = torch.as_tensor(logits)
    if logits.ndim != 2:
        raise ValueError(f"categorical: logits must be (batch, classes); got shape {tuple(logits.shape)}.")
    probabilities = torch.softmax(logits.float(), dim=-1)
    return torch.multinomial(probabilities, num_samples, replacement=True,
                             generator=_generator(seed, logits.device)).to(_dtype(dtype, torch.int32))


def gamma(shape: Any, alpha: float, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Samples of Gamma(alpha, 1), of `shape`."""
    device = config.get_device()
    if seed is not None:  # torch's gamma sampler takes no generator: draw under a forked global state
        with torch.random.fork_rng(devices=[] if device.type == "cpu" else [device]):
            torch.manual_seed(_generator(seed, device).initial_seed())
            return gamma(shape, alpha, dtype)
    concentration = torch.full(_shape(shape), float(alpha), device=device)
    return torch.distributions.Gamma(concentration, torch.ones_like(concentration)).sample().to(
        _dtype(dtype, config.float_dtype()))


__all__ = ["SeedGenerator", "normal", "truncated_normal", "uniform", "randint", "dropout", "shuffle", "categorical",
           "gamma"]
