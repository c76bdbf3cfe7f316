"""Runs Keras guides and examples (keras.io's .py files) on ember, and reports which run to the end.

    python scripts/run_keras_guides.py FOLDER [--epochs 1] [--timeout 600] [--report report.md]

Scripts run with the interpreter that runs this one (use one with TensorFlow installed beside ember
for guides that feed tf.data pipelines).

Each .py file under FOLDER runs in its own process with only its imports rewritten
(`import keras` -> `import ember as keras`, `from keras import x` -> `from ember import x`, and
`from tensorflow import keras` likewise, and, where TensorFlow is not installed,
`import tensorflow as tf` -> `from ember import ops as tf` for the tensor helpers older guides take
from it, such as `tf.ones`; tf.data needs TensorFlow itself) and every
literal `epochs=N` capped (`--epochs`). Nothing is fetched: point it at a folder of the scripts (a
checkout of github.com/keras-team/keras-io, or a copy of some of its guides). Datasets load through
ember's loaders (EMBER_DATA_DIR). The report is a Markdown table: file, result, seconds, reason.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_IMPORTS = [
    (re.compile(r"^(\s*)import keras_core as keras\s*$", re.M), r"\1import ember as keras"),  # Keras 3's beta name
    (re.compile(r"^(\s*)from keras_core import ", re.M), r"\1from ember import "),
    (re.compile(r"^(\s*)from tensorflow import keras\s*$", re.M), r"\1import ember as keras"),  # tf.keras code
    (re.compile(r"^(\s*)from tensorflow\.keras import ", re.M), r"\1from ember import "),
    (re.compile(r"^(\s*)from tensorflow\.keras\.(\w[\w.]*) import ", re.M), r"\1from ember.\2 import "),
    (re.compile(r"^(\s*)import keras\s*$", re.M), r"\1import ember as keras"),
    (re.compile(r"^(\s*)import keras as (\w+)\s*$", re.M), r"\1import ember as \2"),
    (re.compile(r"^(\s*)from keras import ", re.M), r"\1from ember import "),
    (re.compile(r"^(\s*)from keras\.(\w[\w.]*) import ", re.M), r"\1from ember.\2 import "),
    (re.compile(r"^(\s*)import keras\.(\w[\w.]*)\s*$", re.M), r"\1import ember.\2"),
]
# Without TensorFlow, the tensor helpers older guides take from it (tf.ones, tf.zeros, ...) are
# ember.ops'; with TensorFlow installed, scripts keep it (tf.data pipelines feed ember's fit).
if importlib.util.find_spec("tensorflow") is None:
    _IMPORTS.append((re.compile(r"^(\s*)import tensorflow as tf\s*$", re.M), r"\1from ember import ops as tf"))
_EPOCHS = re.compile(r"\bepochs\s*=\s*(\d+)")


def rewrite(source: str, epochs: int) -> str:
    """The script with ember's imports and epochs capped at `epochs`."""
    for pattern, replacement in _IMPORTS:
        source = pattern.sub(replacement, source)
    return _EPOCHS.sub(lambda m: f"epochs={min(int(m.group(1)), epochs)}", source)


def run(path: Path, epochs: int, timeout: float, workdir: Path) -> tuple[str, float, str]:
    """(result, seconds, reason) for one script."""
    script = workdir / path.name
    script.write_text(rewrite(path.read_text(encoding="utf-8"), epochs), encoding="utf-8")
    env = dict(os.environ, MPLBACKEND="Agg", KERAS_BACKEND="torch", PYTHONUNBUFFERED="1")
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, script.name], cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - started, f"still running after {timeout:.0f} s"
    seconds = time.perf_counter() - started
    (workdir / f"{path.stem}.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode == 0:
        return "runs", seconds, ""
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return "fails", seconds, (lines[-1] if lines else f"exit status {done.returncode}")[:200]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder of scripts (searched recursively), or one script")
    parser.add_argument("--epochs", type=int, default=1, help="cap on every literal epochs=N (default 1)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per script (default 600)")
    parser.add_argument("--report", type=Path, help="write the Markdown table here too")
    parser.add_argument("--logs", type=Path, help="keep each script's output in this folder")
    args = parser.parse_args(argv)
    scripts = [args.folder] if args.folder.is_file() else \
        sorted(p for p in args.folder.rglob("*.py") if not p.name.startswith("_"))
    if not scripts:
        print(f"No .py files under {args.folder}.", file=sys.stderr)
        return 2
    rows = ["| script | result | seconds | reason |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="ember-guides-") as scratch:
        workdir = args.logs or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        for path in scripts:
            result, seconds, reason = run(path, args.epochs, args.timeout, workdir)
            row = f"| {path.relative_to(args.folder) if path != args.folder else path.name} | {result} | {seconds:.0f} | {reason.replace('|', '/')} |"
            print(row, flush=True)
            rows.append(row)
    if args.report:
        args.report.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return 0 if all("| runs |" in row for row in rows[2:]) else 1


if __name__ == "__main__":
    sys.exit(main())
