"""ember's settings, in one explicit place: the compute device, the float type and TF32.

The device is chosen automatically (CUDA, then Apple MPS, then the CPU) unless pinned with
`set_device`. Nothing here reads files or environment variables deep in the code.
"""

from __future__ import annotations

import torch

from ember import registry

_device: torch.device | None = None
_floatx: str = "float32"
_tf32: bool = True
_thread_tuning: bool = True
_flush_denormals: bool = True

_FLOAT_TYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
                "float64": torch.float64}


def set_device(device: str | torch.device | None) -> None:
    """Pins the device models train on (`"cpu"`, `"cuda"`, `"cuda:1"`, `"mps"`); None re-enables auto."""
    global _device
    if device is None:
        _device = None
        return
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"set_device({str(device)!r}): CUDA is not available on this machine; "
                         "use 'cpu' or None for automatic choice.")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("set_device('mps'): Apple MPS is not available on this machine; use 'cpu'.")
    _device = device


def get_device() -> torch.device:
    """The device models train on: the pinned one, else CUDA, then MPS, then CPU."""
    if _device is not None:
        return _device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def floatx() -> str:
    """The default float type of weights and float inputs, as a string (Keras's `floatx`)."""
    return _floatx


def set_floatx(value: str) -> None:
    """Sets the default float type: one of float16, bfloat16, float32, float64."""
    global _floatx
    if value not in _FLOAT_TYPES:
        raise ValueError(f"set_floatx: unknown float type {value!r}; expected one of {sorted(_FLOAT_TYPES)}.")
    _floatx = value


def float_dtype() -> torch.dtype:
    """`floatx()` as a torch dtype."""
    return _FLOAT_TYPES[_floatx]


def set_tf32(enabled: bool) -> None:
    """Whether float32 matrix products on CUDA GPUs may use TF32 tensor cores (on by default, as
    in Keras/TensorFlow: about 3x faster on Ampere and newer, with a 10-bit mantissa in the products)."""
    global _tf32
    _tf32 = bool(enabled)
    apply_tf32(get_device())


def apply_tf32(device: torch.device) -> None:
    """Sets PyTorch's CUDA TF32 switches from `set_tf32` when training on `device` (CUDA only)."""
    if device.type != "cuda":
        return
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    if hasattr(matmul, "fp32_precision") and hasattr(cudnn, "conv"):  # PyTorch 2.9 and later
        matmul.fp32_precision = cudnn.conv.fp32_precision = "tf32" if _tf32 else "ieee"
    else:
        matmul.allow_tf32 = cudnn.allow_tf32 = _tf32


def set_thread_tuning(enabled: bool) -> None:
    """Whether CPU training may pick torch's thread count by timing the steps (on by default; only
    for steps whose results do not depend on it, and the count is given back after `fit`)."""
    global _thread_tuning
    _thread_tuning = bool(enabled)


def thread_tuning() -> bool:
    return _thread_tuning


def set_flush_denormals(enabled: bool) -> None:
    """Whether fit/evaluate/predict on the CPU flush denormal floats (below ~1e-38) to zero, as
    TensorFlow does (on by default: x86 CPUs compute with them up to 100x slower; the setting is
    restored when the call returns). Off keeps PyTorch's IEEE gradual underflow."""
    global _flush_denormals
    _flush_denormals = bool(enabled)


def flush_denormals() -> bool:
    return _flush_denormals


def enable_unsafe_deserialization() -> None:
    """Lets loads rebuild Lambda layers from saved bytecode (Keras's switch; off by default, since
    running code from a file is only safe for files you trust)."""
    registry.enable_unsafe_deserialization()
