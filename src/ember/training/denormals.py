"""Flushing denormal floats to zero on the CPU while ember trains, evaluates and predicts.

Floats below about 1e-38 (float32) are "denormal": x86 CPUs compute with them up to a hundred
times slower. Training drives some values there (a GAN's vanishing gradients, Adam's second
moments decaying), and then every step slows down: the keras.io GAN guide's step went from 0.73 s
to 4.6 s after about 100 steps here, and stayed at 0.62 s with denormals flushed. TensorFlow
flushes them in every op, so Keras users never see this; PyTorch leaves them on.

The flush flag is per thread (the x86 MXCSR register). `torch.set_flush_denormal` sets it on the
calling thread only, so the threads of torch's OpenMP pool are set too, by running a tiny parallel
region on them through libgomp (Linux wheels); where that library is not found, only the calling
thread is flushed. The previous state is restored afterwards, so user code outside ember keeps
PyTorch's defaults. `config.set_flush_denormals(False)` turns it off.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
from typing import Any, Callable, Iterator

import torch

from ember import config

_PARALLEL_BODY = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


def _flushing_now() -> bool:
    """Whether the calling thread flushes denormals: a denormal times a number near one is zero."""
    return bool((torch.tensor(1e-39) * 1.0001).item() == 0.0)


def _loaded_libgomp() -> str | None:
    """The path of torch's OpenMP runtime (libgomp) in this process, if loaded. Other packages
    bring their own copies (scikit-learn's wheels do): torch's is the one in torch's folders
    (`torch/lib`, or `torch.libs` in manylinux wheels), else the system's."""
    torch_folder = os.path.dirname(os.path.abspath(torch.__file__))
    found = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                if "libgomp" in os.path.basename(path) and path not in found and os.path.exists(path):
                    found.append(path)
    except OSError:
        return None
    for path in found:
        if path.startswith(torch_folder + os.sep) or path.startswith(torch_folder + ".libs" + os.sep):
            return path
    system = [path for path in found if "site-packages" not in path and "dist-packages" not in path]
    return system[0] if system else None


@functools.lru_cache(maxsize=1)
def _run_on_pool_threads() -> Callable[[Callable[[], None]], None] | None:
    """A function running a Python callable once on each thread of torch's OpenMP team, or None."""
    path = _loaded_libgomp()
    if path is None:
        return None
    try:
        parallel = ctypes.CDLL(path).GOMP_parallel
    except (OSError, AttributeError):
        return None
    parallel.argtypes = [_PARALLEL_BODY, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
    parallel.restype = None

    def run(body: Callable[[], None]) -> None:
        callback = _PARALLEL_BODY(lambda _: body())  # kept alive until the region has ended
        parallel(callback, None, torch.get_num_threads(), 0)

    return run


def set_flush(enabled: bool) -> None:
    """Sets the flush flag on the calling thread and on every thread of torch's CPU pool."""
    torch.set_flush_denormal(enabled)
    run = _run_on_pool_threads()
    if run is not None:  # libgomp keeps one team per calling thread: this reaches the caller's team
        run(lambda: torch.set_flush_denormal(enabled))


@contextlib.contextmanager
def flushed(device: torch.device | None = None) -> Iterator[None]:
    """Denormals flushed to zero inside the block when the CPU computes (`device` CPU or None)."""
    if not config.flush_denormals() or (device is not None and device.type != "cpu") or _flushing_now():
        yield
        return
    set_flush(True)
    try:
        yield
    finally:
        set_flush(False)


def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
    """`method` run under `flushed()` for the device ember computes on (a decorator)."""
    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        with flushed(config.get_device()):
            return method(self, *args, **kwargs)
    return run
