"""Side-by-side benchmark harness: each runner in its own subprocess, one after another, one table.

A workload module defines `RUNNERS = {name: function(args) -> dict}`; each function trains and
returns {"samples_per_second": float, "accuracy": float | None}. The harness adds peak memory and
prints ratios against ember, so every number in a table comes from the same run on the same machine.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
KERAS_PYTHON = HERE / ".venv-keras" / "bin" / "python"


@functools.cache
def example(name: str):
    """The module examples/`name`.py, loaded once, so that a benchmark trains the example's own model."""
    path = HERE.parent / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(function, *args) -> float:
    """Seconds `function(*args)` takes, waiting for the GPU when there is one."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    function(*args)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def torch_dataloader_throughput(model, x, y, batch_size: int, epochs: int) -> float:
    """Samples/s of the loop PyTorch tutorials write: a DataLoader, `loss.item()` and accuracy per step."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = model.to(device)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                                         batch_size=batch_size, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = _loss_for(y)

    def epoch():
        total_loss, correct = 0.0, 0
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = loss_function(outputs, targets)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(inputs)
            correct += _correct(outputs, targets).item()

    epoch()
    return len(x) * epochs / timed(lambda: [epoch() for _ in range(epochs)])


def torch_device_throughput(model, x, y, batch_size: int, epochs: int) -> float:
    """Samples/s of a tuned hand-written loop: data on the device, index batches, metrics on the device."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = model.to(device)
    inputs_all, targets_all = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = _loss_for(y)

    def epoch():
        total_loss = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        order = torch.randperm(len(x), device=device)
        for start in range(0, len(x), batch_size):
            index = order[start:start + batch_size]
            inputs, targets = inputs_all[index], targets_all[index]
            optimizer.zero_grad(set_to_none=True)
            outputs = model(inputs)
            loss = loss_function(outputs, targets)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                total_loss += loss * len(index)
                correct += _correct(outputs, targets)
        return total_loss.item(), correct.item()

    epoch()
    return len(x) * epochs / timed(lambda: [epoch() for _ in range(epochs)])


def torch_accuracy(model, x_test, y_test, batch_size: int = 500) -> float:
    """Test accuracy of a plain PyTorch classifier (logits; one column means binary)."""
    import torch

    device = next(model.parameters()).device
    with torch.no_grad():
        logits = torch.cat([model(torch.from_numpy(x_test[i:i + batch_size]).to(device))
                            for i in range(0, len(x_test), batch_size)]).cpu()
    predicted = (logits[:, 0] > 0).numpy() if logits.shape[1] == 1 else logits.argmax(1).numpy()
    expected = (y_test > 0.5) if logits.shape[1] == 1 else y_test
    return float((predicted == expected).mean())


def runners(load, ember_model, torch_model, keras_model) -> dict:
    """The standard set of runners for a workload.

    Args:
        load: `args -> (x, y, x_test, y_test)` NumPy arrays.
        ember_model, keras_model: `() -> compiled model` (Keras is imported in its own process).
        torch_model: `() -> torch.nn.Module` returning logits.
    """
    def torch_runner(loop):
        def run(args):
            x, y, x_test, y_test = load(args)
            model = torch_model()
            speed = loop(model, x, y, args.batch_size, args.epochs)
            return {"samples_per_second": speed, "accuracy": torch_accuracy(model, x_test, y_test)}
        return run

    return {"ember": fit_runner(load, ember_model), "torch-dataloader": torch_runner(torch_dataloader_throughput),
            "torch-device": torch_runner(torch_device_throughput), "keras-jax": fit_runner(load, keras_model),
            "keras-torch": fit_runner(load, keras_model)}


def fit_runner(load, make):
    """A runner for a Keras-style model: one untimed epoch of `fit`, then `--epochs` timed ones."""
    def run(args):
        x, y, x_test, y_test = load(args)
        model = make()
        model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
        seconds = timed(lambda: model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0))
        accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
        return {"samples_per_second": len(x) * args.epochs / seconds, "accuracy": float(accuracy)}
    return run


def _loss_for(y):
    import torch

    if y.dtype.kind == "f":
        return lambda outputs, targets: torch.nn.functional.binary_cross_entropy_with_logits(outputs.squeeze(-1),
                                                                                              targets)
    return torch.nn.CrossEntropyLoss()


def _correct(outputs, targets):
    if targets.is_floating_point():
        return ((outputs.squeeze(-1) > 0) == (targets > 0.5)).sum()
    return (outputs.argmax(1) == targets).sum()


def peak_memory_mb(runner: str = "") -> float:
    """Peak GPU memory of the run (torch's allocator, or JAX's for Keras on JAX) when on CUDA, else
    the process's peak resident memory."""
    try:
        import torch

        if torch.cuda.is_available():
            if runner == "keras-jax":
                import jax

                return jax.devices()[0].memory_stats()["peak_bytes_in_use"] / 2**20
            return torch.cuda.max_memory_allocated() / 2**20
    except ImportError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(module, runner: str, args: argparse.Namespace) -> None:
    result = module.RUNNERS[runner](args)
    result["peak_memory_mb"] = peak_memory_mb(runner)
    print("RESULT " + json.dumps(result), flush=True)


def run_all(module_name: str, runners: list[str], args: argparse.Namespace, extra: list[str]) -> list[dict]:
    """Runs every runner `args.rounds` times, round-robin (so that a slow spell of a shared machine
    hits all of them alike), and keeps each runner's fastest round, as `timeit` keeps its best."""
    best: dict[str, dict] = {}
    for round_number in range(args.rounds):
        for runner in runners:
            result = _run_child(module_name, runner, extra, args.keras_python)
            if result is None:
                continue
            print(f"  {runner:<22} {result['samples_per_second']:>10,.0f} samples/s"
                  + (f"  (round {round_number + 1})" if args.rounds > 1 else ""), flush=True)
            if runner not in best or result["samples_per_second"] > best[runner]["samples_per_second"]:
                best[runner] = result
    return [best[runner] for runner in dict.fromkeys(runners) if runner in best]


def _run_child(module_name: str, runner: str, extra: list[str], keras_python: str | None) -> dict | None:
    python = sys.executable
    env = dict(os.environ)
    if runner.startswith("keras-"):
        if keras_python is None:
            print(f"skipping {runner}: no Keras environment (bash benchmarks/setup_keras.sh)", flush=True)
            return None
        python, env["KERAS_BACKEND"] = keras_python, runner.split("-", 1)[1]
    command = [python, str(HERE / f"{module_name}.py"), "--child", runner] + extra
    completed = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    if completed.returncode != 0 or not lines:
        print(f"{runner} failed:\n{completed.stderr[-2000:]}", flush=True)
        return None
    result = json.loads(lines[-1][len("RESULT "):])
    result["runner"] = runner
    return result


def table(title: str, results: list[dict], device: str, command: str, unit: str = "samples/s",
          metric: str = "test accuracy") -> str:
    base = next((r for r in results if r["runner"] == "ember"), None)
    with_mfu = any("mfu" in r for r in results)
    lines = [f"### {title}", "", f"{date.today().isoformat()}, {device}, `{command}`", "",
             f"| runner | {unit} | ember is × faster | peak memory (MB) | {metric} |" + (" MFU |" if with_mfu else ""),
             "|---|---|---|---|---|" + ("---|" if with_mfu else "")]
    for result in results:
        ratio = base["samples_per_second"] / result["samples_per_second"] if base else float("nan")
        accuracy = result.get("accuracy")
        mfu = f" {result['mfu']:.1%} |" if "mfu" in result else (" |" if with_mfu else "")
        lines.append(f"| {result['runner']} | {result['samples_per_second']:,.0f} | {ratio:.2f} | "
                     f"{result['peak_memory_mb']:,.0f} | {'' if accuracy is None else f'{accuracy:.4f}'} |{mfu}")
    return "\n".join(lines) + "\n"


def device_description() -> str:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__})"


def main(module_name: str, module, title: str) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--runners", default=",".join(module.RUNNERS))
    parser.add_argument("--output", help="append the markdown table to this file")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run all runners this many times, round-robin, and keep each one's best")
    parser.add_argument("--keras-python", default=str(KERAS_PYTHON) if KERAS_PYTHON.exists() else None,
                        help="the interpreter with Keras 3 (default: benchmarks/.venv-keras)")
    module.add_arguments(parser)
    args, _ = parser.parse_known_args()
    if args.child:
        run_child(module, args.child, args)
        return
    extra = _drop_values(sys.argv[1:], ("--runners", "--output", "--rounds", "--keras-python"))
    print(f"{title} on {device_description()}", flush=True)
    results = run_all(module_name, args.runners.split(","), args, extra)
    command = "python benchmarks/" + module_name + ".py " + " ".join(sys.argv[1:])
    text = table(title, results, device_description(), command.strip(), getattr(module, "UNIT", "samples/s"),
                 getattr(module, "METRIC", "test accuracy"))
    print("\n" + text)
    if args.output:
        with open(args.output, "a") as file:
            file.write("\n" + text)


def _drop_values(argv: list[str], names: tuple[str, ...]) -> list[str]:
    kept, skip = [], False
    for item in argv:
        if skip:
            skip = False
            continue
        if item in names:
            skip = True
            continue
        if any(item.startswith(name + "=") for name in names):
            continue
        kept.append(item)
    return kept
