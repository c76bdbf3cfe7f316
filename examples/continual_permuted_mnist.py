"""Permuted MNIST (10 pixel permutations, domain-incremental, an MLP of 512 units): naive
fine-tuning, EWC, online EWC and replay over the stream; the strategies and the table are
those of continual_split_mnist.py.

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/continual_permuted_mnist.py [--seeds 0 1 2]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from continual_split_mnist import run_from_command_line  # noqa: E402

if __name__ == "__main__":
    run_from_command_line("permuted")
