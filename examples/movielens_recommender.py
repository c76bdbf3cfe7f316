"""Recommenders on MovieLens 100K: biased matrix factorization for ratings (RMSE and MAE over the
canonical u1-u5 folds), NeuMF for implicit feedback (leave-one-out by time, HR@10 and nDCG@10
against 99 sampled negatives, as in the NCF paper), and the top 10 new movies for one user.

MovieLens's terms forbid redistributing it, so ember ships no copy. Get `ml-100k.zip` from
https://grouplens.org/datasets/movielens/100k/ and put it in `~/.ember/datasets/movielens/` (or in
`$EMBER_DATA_DIR/movielens/`); when online, `ember.datasets.movielens.load_data()` fetches it and
checks its MD5 against the one GroupLens publishes.

Run: .venv/bin/python examples/movielens_recommender.py [--folds 1 2 3 4 5] [--epochs 25]
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import ember
from ember import recommenders
from ember.datasets import movielens


def rating_model(num_users: int, num_items: int, rating_mean: float) -> recommenders.MatrixFactorization:
    model = recommenders.MatrixFactorization(num_users, num_items, embedding_dim=64, l2=0.05, rating_mean=rating_mean)
    model.compile(ember.optimizers.Adam(2e-3), loss="mse", metrics=["root_mean_squared_error", "mae"])
    return model


def rating_folds(folds: tuple[int, ...], epochs: int, num_users: int, num_items: int) -> dict[str, float]:
    """Biased MF trained on each `u{fold}.base`, scored on `u{fold}.test` (ratings clipped to 1-5)."""
    rmse, mae = [], []
    for fold in folds:
        (x_train, y_train), (x_test, y_test) = movielens.load_data("100k", fold=fold)
        ember.utils.set_random_seed(fold)
        model = rating_model(num_users, num_items, float(y_train.mean()))
        model.fit(x_train, y_train, epochs=epochs, batch_size=256, verbose=0)
        predicted = np.clip(model.predict(x_test, batch_size=4096, verbose=0)[:, 0], 1.0, 5.0)
        rmse.append(float(np.sqrt(np.mean((predicted - y_test) ** 2))))
        mae.append(float(np.mean(np.abs(predicted - y_test))))
        print(f"fold u{fold}: RMSE {rmse[-1]:.4f}  MAE {mae[-1]:.4f}")
    return {"rmse": float(np.mean(rmse)), "mae": float(np.mean(mae))}


def implicit_ranking(epochs: int, num_users: int, num_items: int) -> tuple[dict[str, float], Any]:
    """NeuMF on every rating as an interaction; each user's latest one held out."""
    (pairs, _, times), _ = movielens.load_data("100k", fold=None, return_timestamps=True)
    train, test = recommenders.leave_one_out(pairs, times)
    ember.utils.set_random_seed(0)
    model = recommenders.NeuralCollaborativeFiltering(num_users, num_items, variant="neumf", embedding_dim=16,
                                                      mlp_units=(64, 32, 16))
    model.compile(ember.optimizers.Adam(1e-3), loss=ember.losses.BinaryCrossentropy(from_logits=True))
    for epoch in range(epochs):  # fresh negatives every epoch, as the NCF paper samples them
        x, y = recommenders.with_negatives(train, num_items, negatives_per_positive=4, known=pairs, seed=epoch)
        model.fit(x, y, epochs=1, batch_size=256, verbose=0)
    return recommenders.evaluate_ranking(model, test, known=pairs, num_negatives=99, k=10), (model, train)


def main(folds: tuple[int, ...] = (1, 2, 3, 4, 5), epochs: int = 25, implicit_epochs: int = 10,
         num_users: int = movielens.NUM_USERS, num_items: int = movielens.NUM_ITEMS) -> dict[str, float]:
    results = rating_folds(folds, epochs, num_users, num_items)
    print(f"biased MF, mean over folds {list(folds)}: RMSE {results['rmse']:.4f}  MAE {results['mae']:.4f}")
    ranking, (model, train) = implicit_ranking(implicit_epochs, num_users, num_items)
    print(f"NeuMF, leave-one-out: HR@10 {ranking['hit_rate@10']:.4f}  nDCG@10 {ranking['ndcg@10']:.4f}")
    titles = movielens.movie_titles()
    best = model.recommend(user=0, k=10, exclude=train)
    print("top 10 for user 0 (movies not rated in training):", [titles[item] for item in best])
    return {**results, **ranking}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--implicit-epochs", type=int, default=10)
    arguments = parser.parse_args()
    main(tuple(arguments.folds), arguments.epochs, arguments.implicit_epochs)
