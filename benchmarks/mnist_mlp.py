"""MNIST MLP 784-128-10, adam, batch 32: ember `fit` against plain PyTorch loops and Keras 3.

    EMBER_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/mnist_mlp.py [--epochs 2]

Every runner trains one warm-up epoch, then `--epochs` timed epochs over the 60,000 training
images, and reports samples per second and test accuracy.
"""

from __future__ import annotations

import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def add_arguments(parser) -> None:
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)


def load():
    import ember

    (x_train, y_train), (x_test, y_test) = ember.datasets.mnist.load_data()
    prepare = lambda x: x.reshape(len(x), 784).astype("float32") / 255  # noqa: E731
    return prepare(x_train), y_train.astype("int64"), prepare(x_test), y_test.astype("int64")


def run_ember(args) -> dict:
    import ember
    from ember import layers

    x, y, x_test, y_test = load()
    model = ember.Sequential([layers.Dense(128, activation="relu", input_shape=(784,)),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
    seconds = harness.timed(lambda: model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0))
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    return {"samples_per_second": len(x) * args.epochs / seconds, "accuracy": accuracy}


def _torch_model(device):
    import torch

    return torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)).to(device)


def _torch_accuracy(model, x_test, y_test, device) -> float:
    import torch

    with torch.no_grad():
        predictions = model(torch.from_numpy(x_test).to(device)).argmax(1).cpu().numpy()
    return float((predictions == y_test).mean())


def run_torch_dataloader(args) -> dict:
    """The loop PyTorch tutorials write: a DataLoader, loss.item() and accuracy per step."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    x, y, x_test, y_test = load()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                                         batch_size=args.batch_size, shuffle=True)
    model = _torch_model(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = torch.nn.CrossEntropyLoss()

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
            correct += (outputs.argmax(1) == targets).sum().item()

    epoch()
    seconds = harness.timed(lambda: [epoch() for _ in range(args.epochs)])
    return {"samples_per_second": len(x) * args.epochs / seconds,
            "accuracy": _torch_accuracy(model, x_test, y_test, device)}


def run_torch_device(args) -> dict:
    """A tuned hand-written loop: data on the device, index batches, metrics kept on the device."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    x, y, x_test, y_test = load()
    inputs_all, targets_all = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    model = _torch_model(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = torch.nn.CrossEntropyLoss()

    def epoch():
        total_loss = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        order = torch.randperm(len(x), device=device)
        for start in range(0, len(x), args.batch_size):
            index = order[start:start + args.batch_size]
            inputs, targets = inputs_all[index], targets_all[index]
            optimizer.zero_grad(set_to_none=True)
            outputs = model(inputs)
            loss = loss_function(outputs, targets)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                total_loss += loss * len(index)
                correct += (outputs.argmax(1) == targets).sum()
        return total_loss.item(), correct.item()

    epoch()
    seconds = harness.timed(lambda: [epoch() for _ in range(args.epochs)])
    return {"samples_per_second": len(x) * args.epochs / seconds,
            "accuracy": _torch_accuracy(model, x_test, y_test, device)}


def run_keras(args) -> dict:
    import keras

    x, y, x_test, y_test = load()
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
    seconds = harness.timed(lambda: model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0))
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    return {"samples_per_second": len(x) * args.epochs / seconds, "accuracy": float(accuracy)}


RUNNERS = {"ember": run_ember, "torch-dataloader": run_torch_dataloader, "torch-device": run_torch_device,
           "keras-jax": run_keras, "keras-torch": run_keras}

if __name__ == "__main__":
    harness.main("mnist_mlp", sys.modules[__name__], "MNIST MLP 784-128-10, adam, batch 32")
