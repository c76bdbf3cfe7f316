"""The `ember` command: `ember demo` trains the tutorials' MLP and CNN on bundled digits; `ember tune`
runs a worker of a hyperparameter search."""

from __future__ import annotations

import argparse
import os
import sys
import time


def demo(output_dir: str, epochs: int) -> None:
    """Trains a 2-layer MLP and a small CNN on scikit-learn's digits; saves models and curves."""
    import ember
    from ember import layers

    ember.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = ember.datasets.digits.load_data()
    x_train, x_test = x_train.astype("float32") / 16.0, x_test.astype("float32") / 16.0
    os.makedirs(output_dir, exist_ok=True)
    print(f"Digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels "
          f"(device: {ember.config.get_device()}).\n")

    mlp = ember.Sequential([
        layers.Input(shape=(8, 8)),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ], name="mlp")
    cnn = ember.Sequential([
        layers.Input(shape=(8, 8)),
        layers.Reshape((8, 8, 1)),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ], name="cnn")
    for model in (mlp, cnn):
        model.summary()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        start = time.perf_counter()
        history = model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.1,
                            verbose="auto")
        seconds = time.perf_counter() - start
        loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
        model_path = os.path.join(output_dir, f"{model.name}.ember")
        curves_path = os.path.join(output_dir, f"{model.name}_training.png")
        model.save(model_path)
        history.plot(curves_path)
        print(f"{model.name}: test accuracy {accuracy:.4f} (loss {loss:.4f}) after {seconds:.1f} s of training; "
              f"saved {model_path} and {curves_path}\n")


def tune_worker(path: str, storage: str | None) -> int:
    """Runs one worker of the search a Python file defines (your own file: it is executed)."""
    import runpy

    from ember.tune import Search

    namespace = runpy.run_path(path, run_name="ember_tune")
    search, arguments = namespace.get("search"), namespace.get("search_arguments", {})
    if not isinstance(search, Search):
        raise SystemExit(f"{path} must define `search`, an ember.tune search (GridSearch, RandomSearch, ...).")
    if callable(arguments):
        arguments = arguments()
    if storage:
        search.storage = storage
    search.search(**arguments)
    search.results_summary()
    return 0


def explain_command(arguments: argparse.Namespace) -> int:
    """Writes the explanation of a saved model's prediction: PNG for images and tables, HTML for text."""
    import numpy as np

    import ember

    model = ember.load_model(arguments.model, compile=False)
    suffix = os.path.splitext(arguments.input)[1].lower()
    os.makedirs(arguments.output, exist_ok=True)
    options = dict(method=arguments.method, target=arguments.target, layer=arguments.layer)
    if suffix == ".txt":
        if not arguments.tokenizer:
            raise SystemExit("A text input needs --tokenizer (a JSON file from Tokenizer.to_json()).")
        from ember.text import pad_sequences
        from ember.text import tokenizer_from_json

        with open(arguments.tokenizer, encoding="utf-8") as file:
            tokenizer = tokenizer_from_json(file.read())
        with open(arguments.input, encoding="utf-8") as file:
            text = file.read()
        ids = tokenizer.texts_to_sequences([text])
        explanation = model.explain(pad_sequences(ids, maxlen=arguments.maxlen), **options)
        words = tokenizer.sequences_to_texts([[i] for i in ids[0][-arguments.maxlen:]])
        path = explanation.save_html(os.path.join(arguments.output, "explanation.html"), [words])
    else:
        if suffix == ".npy":
            batch = np.load(arguments.input, allow_pickle=False)
        else:
            from ember.data.image import _decode

            channels = model.input_spec_shape[-1] if isinstance(model.input_spec_shape, tuple) else 3
            mode = {1: "grayscale", 3: "rgb", 4: "rgba"}.get(channels, "rgb")
            batch = _decode(open(arguments.input, "rb").read(), tuple(model.input_spec_shape[1:3]), mode)[None]
            batch = batch.astype("float32") / 255.0
        explanation = model.explain(batch, **options)
        name = os.path.join(arguments.output, "explanation.png")
        path = explanation.save_png(name) if explanation.inputs.ndim >= 3 else explanation.save_bar_chart(name)
    print(f"{arguments.method} explanation written to {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ember", description="ember: Keras-style deep learning on PyTorch.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="train an MLP and a CNN on the bundled digits dataset")
    demo_parser.add_argument("--output", default="ember-demo", help="folder for the saved models and plots")
    demo_parser.add_argument("--epochs", type=int, default=15)
    tune_parser = commands.add_parser("tune", help="run a worker for a search defined in a Python file")
    tune_parser.add_argument("file", help="a Python file defining `search` (an ember.tune search) and "
                                          "`search_arguments` (a dict of search()/fit() arguments)")
    tune_parser.add_argument("--storage", help="database URL shared by the workers (default: the file's choice)")
    explain_parser = commands.add_parser("explain", help="explain a saved model's predictions for an input file")
    explain_parser.add_argument("model", help="a model saved with model.save()")
    explain_parser.add_argument("input", help="an image (.png/.jpg), a NumPy batch (.npy), or a text (.txt, with "
                                              "--tokenizer)")
    explain_parser.add_argument("--method", default="integrated_gradients")
    explain_parser.add_argument("--target", type=int, default=None)
    explain_parser.add_argument("--layer", default=None, help="the convolution layer for grad_cam")
    explain_parser.add_argument("--tokenizer", help="a Tokenizer saved with to_json(), for text inputs")
    explain_parser.add_argument("--maxlen", type=int, default=200, help="sequence length for text inputs")
    explain_parser.add_argument("--output", default="explanation", help="folder for the PNG/HTML files")
    arguments = parser.parse_args(argv)
    if arguments.command == "explain":
        return explain_command(arguments)
    if arguments.command == "tune":
        return tune_worker(arguments.file, arguments.storage)
    if arguments.command == "demo":
        import matplotlib

        matplotlib.use("Agg")
        demo(arguments.output, arguments.epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
