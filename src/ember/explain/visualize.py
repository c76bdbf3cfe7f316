"""Pictures of attributions: heat-map overlays (PNG), coloured tokens (HTML), feature bars (PNG)."""

from __future__ import annotations

import html
from typing import Any

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def heat_map(explanation: Any, index: int) -> np.ndarray:
    """A (height, width) map in [0, 1] for one image: |attribution| summed over channels."""
    values = np.abs(explanation.values[index])
    if values.ndim == 3:
        values = values.sum(axis=-1)
    peak = values.max()
    return values / peak if peak > 0 else values


def save_heatmaps(explanation: Any, path: str, class_names: list[str] | None, count: int) -> str:
    images = explanation.inputs
    if images.ndim not in (3, 4):
        raise ValueError(f"save_png draws images (batch, height, width[, channels]); these inputs have shape "
                         f"{images.shape}. Use save_bar_chart for tables or save_html for text.")
    plt = _pyplot()
    count = min(count, len(images))
    figure, axes = plt.subplots(count, 3, figsize=(6, 2 * count), squeeze=False)
    for row in range(count):
        image = images[row].astype(np.float32)
        image = (image - image.min()) / max(float(image.max() - image.min()), 1e-8)
        shown = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
        target = int(explanation.target[row])
        label = class_names[target] if class_names else str(target)
        axes[row, 0].imshow(shown, cmap="gray" if shown.ndim == 2 else None)
        axes[row, 0].set_title(f"input; explained: {label}", fontsize=8)
        axes[row, 1].imshow(heat_map(explanation, row), cmap="inferno")
        axes[row, 1].set_title(explanation.method.replace("_", " "), fontsize=8)
        axes[row, 2].imshow(shown, cmap="gray" if shown.ndim == 2 else None)
        axes[row, 2].imshow(heat_map(explanation, row), cmap="jet", alpha=0.45)
        axes[row, 2].set_title("overlay", fontsize=8)
        for axis in axes[row]:
            axis.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def save_token_html(explanation: Any, path: str, tokens: list[list[str]]) -> str:
    if explanation.values.ndim != 2:
        raise ValueError("save_html colours tokens; these attributions are not one value per token.")
    rows = []
    for sample, (words, scores) in enumerate(zip(tokens, explanation.values)):
        scores = scores[-len(words):] if len(words) <= len(scores) else scores
        words = words[-len(scores):]
        peak = max(float(np.abs(scores).max()), 1e-12)
        spans = []
        for word, score in zip(words, scores):
            strength = abs(float(score)) / peak
            colour = f"rgba(220, 40, 40, {strength:.2f})" if score > 0 else f"rgba(40, 90, 220, {strength:.2f})"
            spans.append(f'<span style="background:{colour}" title="{score:.4f}">{html.escape(word)}</span>')
        rows.append(f"<p><b>sample {sample}, target {int(explanation.target[sample])}</b><br>{' '.join(spans)}</p>")
    document = ("<!doctype html><meta charset='utf-8'><title>ember token attributions</title>"
                f"<h3>{html.escape(explanation.method)}: red pushes toward the target, blue against</h3>"
                + "\n".join(rows))
    with open(path, "w", encoding="utf-8") as file:
        file.write(document)
    return path


def save_feature_bars(explanation: Any, path: str, feature_names: list[str] | None) -> str:
    values = explanation.values
    if values.ndim != 2:
        raise ValueError(f"save_bar_chart draws one bar per feature of a table (batch, features); got "
                         f"attributions of shape {values.shape}.")
    names = feature_names or [f"feature {i}" for i in range(values.shape[1])]
    if len(names) != values.shape[1]:
        raise ValueError(f"{len(names)} feature names for {values.shape[1]} features.")
    mean = values.mean(axis=0)
    order = np.argsort(np.abs(mean))
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6, 0.4 * len(names) + 1))
    axis.barh([names[i] for i in order], mean[order], color=["#d62728" if mean[i] > 0 else "#1f77b4" for i in order])
    axis.set_xlabel(f"mean {explanation.method.replace('_', ' ')} attribution")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
