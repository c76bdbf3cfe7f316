"""Explaining predictions of the tutorials' models with ember.explain (Captum underneath).

Run: EMBER_DATA_DIR=../shared/datasets .venv/bin/python examples/explain_predictions.py

Writes into examples/explanations/:
- mnist_gradcam.png, mnist_integrated_gradients.png  (the MNIST CNN)
- cifar10_gradcam.png, cifar10_integrated_gradients.png  (the CIFAR-10 CNN)
- imdb_tokens.html  (which words made the IMDB LSTM call a review positive)
- pima_features.png  (which clinical features drive the diabetes MLP)
and prints the sanity checks: integrated gradients' completeness gap, the model-randomisation test,
and an occlusion test (hiding the top-attributed 10% of pixels against a random 10%).
"""

from __future__ import annotations

import os

import numpy as np

import ember
from ember import layers

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "explanations")
SENTIMENT_WORDS = {"great", "excellent", "best", "love", "loved", "wonderful", "perfect", "amazing", "beautiful",
                   "brilliant", "enjoyed", "favorite", "fantastic", "superb", "highly", "good", "fun", "enjoy",
                   "funny", "well", "recommend", "masterpiece", "touching", "7", "8", "9", "10", "gem", "classic",
                   "liked", "nice", "awesome", "incredible", "outstanding", "powerful", "terrific", "favorites",
                   "greatest", "enjoyable", "unforgettable", "favourite", "wonderfully", "beautifully", "stunning"}


def cnn(input_shape: tuple, convolutions: list[int], dense: int | None) -> ember.Sequential:
    model = ember.Sequential([layers.Input(input_shape)])
    for index, filters in enumerate(convolutions):
        model.add(layers.Conv2D(filters, 3, activation="relu"))
        if index < 2:
            model.add(layers.MaxPooling2D())
    model.add(layers.Flatten())
    if dense:
        model.add(layers.Dense(dense, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def occlusion_test(model: ember.Model, images: np.ndarray, attributions: np.ndarray, fraction: float = 0.1,
                   seed: int = 0) -> tuple[float, float]:
    """Mean drop of the predicted class's probability when the top-attributed `fraction` of pixel
    positions is set to zero, and when a random `fraction` is."""
    probabilities = model.predict(images, verbose=0)
    predicted = probabilities.argmax(1)
    scores = attributions.reshape(len(images), -1) if attributions.ndim == 3 else \
        attributions.sum(-1).reshape(len(images), -1)
    count = int(scores.shape[1] * fraction)
    rng = np.random.default_rng(seed)
    drops = {"top": [], "random": []}
    for kind in drops:
        hidden = images.copy().reshape(len(images), scores.shape[1], -1)
        for row in range(len(images)):
            chosen = np.argsort(-scores[row])[:count] if kind == "top" else rng.choice(scores.shape[1], count, False)
            hidden[row, chosen] = 0.0
        after = model.predict(hidden.reshape(images.shape), verbose=0)
        drops[kind] = probabilities[np.arange(len(images)), predicted] - after[np.arange(len(images)), predicted]
    return float(np.mean(drops["top"])), float(np.mean(drops["random"]))


def explain_mnist(samples: int = 20_000, epochs: int = 1) -> dict:
    (x_train, y_train), (x_test, y_test) = ember.datasets.mnist.load_data()
    x_train, x_test = x_train[:samples, ..., None] / 255.0, x_test[..., None] / 255.0
    model = cnn((28, 28, 1), [32, 64], None)
    model.fit(x_train.astype("float32"), y_train[:samples], epochs=epochs, batch_size=64, verbose=0)
    accuracy = model.evaluate(x_test.astype("float32"), y_test, verbose=0)[1]
    batch = x_test[:64].astype("float32")
    gradients = model.explain(batch, method="integrated_gradients")
    gradients.save_png(os.path.join(OUTPUT, "mnist_integrated_gradients.png"), count=6)
    model.explain(batch, method="grad_cam").save_png(os.path.join(OUTPUT, "mnist_gradcam.png"), count=6)
    top, random = occlusion_test(model, batch, gradients.values)
    randomized = {method: ember.explain.model_randomization_check(model, batch[:8], method=method).rank_correlation
                  for method in ("integrated_gradients", "saliency", "grad_cam")}
    return {"accuracy": accuracy, "occlusion_top": top, "occlusion_random": random,
            "completeness_gap": ember.explain.completeness_gap(gradients),
            "randomization_rank_correlation": randomized}


def explain_cifar10(samples: int = 20_000, epochs: int = 2) -> dict:
    (x_train, y_train), (x_test, y_test) = ember.datasets.cifar10.load_data()
    x_train, x_test = (x_train[:samples] / 255.0).astype("float32"), (x_test / 255.0).astype("float32")
    model = cnn((32, 32, 3), [32, 64, 64], 64)
    model.fit(x_train, y_train[:samples], epochs=epochs, batch_size=64, verbose=0)
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    batch = x_test[:64]
    gradients = model.explain(batch, method="integrated_gradients")
    gradients.save_png(os.path.join(OUTPUT, "cifar10_integrated_gradients.png"), ember.datasets.cifar10.CLASS_NAMES,
                       count=6)
    model.explain(batch, method="grad_cam").save_png(os.path.join(OUTPUT, "cifar10_gradcam.png"),
                                                     ember.datasets.cifar10.CLASS_NAMES, count=6)
    top, random = occlusion_test(model, batch, gradients.values)
    return {"accuracy": accuracy, "occlusion_top": top, "occlusion_random": random}


def explain_imdb(epochs: int = 2) -> dict:
    from ember.preprocessing.sequence import pad_sequences
    from ember.preprocessing.text import Tokenizer

    (train_texts, y_train), (test_texts, y_test) = ember.datasets.imdb.load_text()
    tokenizer = Tokenizer(num_words=10_000, oov_token="<unk>")
    tokenizer.fit_on_texts(train_texts)
    x_train = pad_sequences(tokenizer.texts_to_sequences(train_texts), maxlen=200)
    model = ember.Sequential([layers.Embedding(10_000, 64, mask_zero=True), layers.LSTM(64),
                              layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=0)
    positives = [t for t, label in zip(test_texts, y_test) if label == 1 and len(t) < 700][:8]
    sequences = tokenizer.texts_to_sequences(positives)
    explanation = model.explain(pad_sequences(sequences, maxlen=200), method="integrated_gradients")
    words = [tokenizer.sequences_to_texts([[i] for i in sequence[-200:]]) for sequence in sequences]
    explanation.save_html(os.path.join(OUTPUT, "imdb_tokens.html"), words)
    top_words = []
    for row, review_words in enumerate(words):
        scores = explanation.values[row][-len(review_words):]
        top_words.append([review_words[i] for i in np.argsort(-scores)[:3]])
    share = np.mean([word in SENTIMENT_WORDS for triple in top_words for word in triple])
    return {"top_words": top_words, "sentiment_share": float(share),
            "completeness_gap": ember.explain.completeness_gap(explanation)}


def explain_pima() -> dict:
    names = ["pregnancies", "glucose", "blood pressure", "skin thickness", "insulin", "BMI", "pedigree", "age"]
    (x_train, y_train), (x_test, y_test) = ember.datasets.pima_indians_diabetes.load_data(seed=7)
    mean, std = x_train.mean(0), x_train.std(0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    model = ember.Sequential([layers.Dense(64, activation="relu", input_shape=(8,)),
                              layers.Dense(32, activation="relu"), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=60, verbose=0)
    explanation = model.explain(x_test, method="integrated_gradients")
    explanation.save_bar_chart(os.path.join(OUTPUT, "pima_features.png"), names)
    ranking = [names[i] for i in np.argsort(-np.abs(explanation.values).mean(0))]
    return {"feature_ranking": ranking, "completeness_gap": ember.explain.completeness_gap(explanation)}


def main() -> dict:
    ember.utils.set_random_seed(0)
    os.makedirs(OUTPUT, exist_ok=True)
    results = {"mnist": explain_mnist(), "cifar10": explain_cifar10(), "imdb": explain_imdb(), "pima": explain_pima()}
    for name, result in results.items():
        print(name, result)
    return results


if __name__ == "__main__":
    main()
