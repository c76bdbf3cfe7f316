import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from ember import losses, metrics


def test_accuracy_is_resolved_from_loss_and_shapes():
    assert isinstance(metrics.get("accuracy", losses.get("binary_crossentropy"), (None, 1), (None,)),
                      metrics.BinaryAccuracy)
    assert isinstance(metrics.get("accuracy", losses.get("sparse_categorical_crossentropy"), (None, 10), (None,)),
                      metrics.SparseCategoricalAccuracy)
    assert isinstance(metrics.get("accuracy", losses.get("categorical_crossentropy"), (None, 10), (None, 10)),
                      metrics.CategoricalAccuracy)
    assert metrics.get("acc", losses.get("mse"), (None, 10), (None, 10)).name == "acc"


def test_accuracies_accumulate_over_batches():
    metric = metrics.SparseCategoricalAccuracy()
    metric.update_state(torch.tensor([0, 1]), torch.tensor([[0.9, 0.1], [0.8, 0.2]]))
    metric.update_state(torch.tensor([1]), torch.tensor([[0.1, 0.9]]))
    assert metric.result().item() == pytest.approx(2 / 3)
    metric.reset_state()
    assert metric.result().item() == 0


def test_top_k_and_regression_metrics():
    predictions = torch.tensor([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]])
    assert metrics.SparseTopKCategoricalAccuracy(k=2)(torch.tensor([1, 0]), predictions).item() == 0.5
    rmse = metrics.RootMeanSquaredError()
    assert rmse(torch.tensor([[1.0], [3.0]]), torch.tensor([[0.0], [0.0]])).item() == pytest.approx(np.sqrt(5))


def test_precision_recall_auc_f1_match_scikit_learn():
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 2, size=500)
    scores = np.clip(targets * 0.3 + rng.uniform(0, 0.7, size=500), 0, 1)
    predicted = (scores > 0.5).astype(int)
    y, p = torch.tensor(targets, dtype=torch.float32), torch.tensor(scores, dtype=torch.float32).unsqueeze(1)
    assert metrics.Precision()(y, p).item() == pytest.approx(precision_score(targets, predicted), abs=1e-5)
    assert metrics.Recall()(y, p).item() == pytest.approx(recall_score(targets, predicted), abs=1e-5)
    assert metrics.AUC()(y, p).item() == pytest.approx(roc_auc_score(targets, scores), abs=5e-3)
    assert metrics.get("f1_score")(y, p).item() == pytest.approx(f1_score(targets, predicted), abs=1e-5)


def test_f1_macro_on_sparse_labels_with_softmax_outputs():
    labels = torch.tensor([0, 1, 2, 2])
    outputs = torch.tensor([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.6, 0.2, 0.2]])
    metric = metrics.F1Score(average="macro")
    expected = f1_score(labels.numpy(), outputs.argmax(1).numpy(), average="macro")
    assert metric(labels, outputs).item() == pytest.approx(expected)


def test_sample_weights_in_metrics():
    metric = metrics.BinaryAccuracy()
    metric.update_state(torch.tensor([1.0, 0.0]), torch.tensor([[0.9], [0.9]]), torch.tensor([3.0, 1.0]))
    assert metric.result().item() == pytest.approx(0.75)
