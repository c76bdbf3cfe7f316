"""Attributions for ember models, computed by Captum: which inputs made the model say what it said.

`attribute(model, x, method=...)` returns an `Explanation`: attribution values shaped like the
input (one value per token for text models, one per pixel position for Grad-CAM), plus the
integrated-gradients completeness gap. Gradients are taken of the logits: for a softmax or sigmoid
output, the values before the activation (they do not saturate).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ember._tree import flatten

PIXEL_METHODS = ("saliency", "input_x_gradient", "integrated_gradients", "smoothgrad", "occlusion")
METHODS = PIXEL_METHODS + ("grad_cam",)


def _captum():
    try:
        import captum.attr
    except ImportError as error:
        raise ImportError("ember.explain needs Captum: pip install 'ember[explain]' (or captum).") from error
    return captum.attr


@dataclass
class Explanation:
    """Attributions for a batch of inputs.

    Attributes:
        values: NumPy attributions; the input's shape, or (batch, steps) per token for text models,
            or (batch, height, width) for Grad-CAM.
        inputs: the inputs that were explained (NumPy).
        method, target: what was computed, and for which output (one class index per sample).
        delta: integrated gradients' completeness gap per sample (sum of attributions minus the
            output difference from the baseline), or None for other methods.
    """

    values: np.ndarray
    inputs: np.ndarray
    method: str
    target: np.ndarray
    delta: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def save_png(self, path: str, class_names: list[str] | None = None, count: int = 8) -> str:
        """Heat-map overlays of image attributions (input, heat map, overlay) for the first samples."""
        from ember.explain.visualize import save_heatmaps

        return save_heatmaps(self, path, class_names, count)

    def save_html(self, path: str, tokens: list[list[str]]) -> str:
        """Each token coloured by its attribution (red pushes toward the target, blue against)."""
        from ember.explain.visualize import save_token_html

        return save_token_html(self, path, tokens)

    def save_bar_chart(self, path: str, feature_names: list[str] | None = None) -> str:
        """Mean attribution per feature of a tabular model, as a bar chart."""
        from ember.explain.visualize import save_feature_bars

        return save_feature_bars(self, path, feature_names)


def logits_function(model: nn.Module):
    """The model as a function to its logits (before a final softmax or sigmoid), for Captum."""
    def forward(*inputs: torch.Tensor) -> torch.Tensor:
        outputs = model(inputs[0] if len(inputs) == 1 else list(inputs))
        if isinstance(outputs, (list, tuple)):
            raise ValueError("ember.explain explains models with one output; this one returns several.")
        return getattr(outputs, "_ember_logits", outputs)
    return forward


def attribute(model: nn.Module, x: Any, target: int | Any | None = None, method: str = "integrated_gradients",
              layer: str | None = None, baselines: Any = None, n_steps: int = 50, samples: int = 25,
              window: int | None = None) -> Explanation:
    """Explains the model's outputs for `x`.

    Args:
        model: an ember model (Sequential, functional or subclassed) or any classifier module.
        x: a batch of inputs (NumPy or tensor), shaped as the model expects.
        target: the output index to explain, per sample or for all; None takes the predicted class
            (index 0 for a single sigmoid output).
        method: "saliency" (gradients), "input_x_gradient", "integrated_gradients" (with `baselines`,
            zeros by default), "smoothgrad" (gradients averaged over `samples` noisy copies),
            "occlusion" (output change when patches of `window` are hidden), "grad_cam" (on the
            convolution layer named `layer`, the last one by default). Models that read token ids
            get per-token attributions through their embedding layer.
    """
    if method not in METHODS:
        raise ValueError(f"Unknown attribution method {method!r}; choose one of {list(METHODS)}.")
    attributions = _captum()
    device = next(iter(model.parameters())).device
    inputs = _as_input_tensor(model, x, device)
    was_training = model.training
    model.eval()
    try:
        forward = logits_function(model)
        with torch.no_grad():
            logits = forward(inputs)
        targets = _targets(target, logits)
        embedding = _token_embedding(model) if not inputs.is_floating_point() else None
        if method == "grad_cam":
            values = _grad_cam(model, forward, inputs, targets, layer)
            return Explanation(values, inputs.cpu().numpy(), method, targets.cpu().numpy())
        if embedding is not None:
            return _token_attribution(attributions, forward, embedding, inputs, targets, method, n_steps)
        return _pixel_attribution(attributions, forward, inputs, targets, method, baselines, n_steps, samples,
                                  window)
    finally:
        model.train(was_training)


def _as_input_tensor(model: nn.Module, x: Any, device: torch.device) -> torch.Tensor:
    tensor = x.detach() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    integer = hasattr(model, "input_float_types") and model.input_float_types() is False
    tensor = tensor.long() if integer or not tensor.is_floating_point() and _token_embedding(model) else tensor.float()
    spec = getattr(model, "input_spec_shape", None)
    if isinstance(spec, tuple) and (len(spec) != tensor.ndim or any(
            want is not None and want != got for want, got in zip(spec[1:], tensor.shape[1:]))):
        raise ValueError(f"Model '{getattr(model, 'name', type(model).__name__)}' expects input of shape "
                         f"{_describe(spec)}; got shape {tuple(tensor.shape)}. Pass a batch shaped like the "
                         "model's input (add a batch axis for one sample: x[None]).")
    return tensor.to(device)


def _describe(shape: tuple) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _targets(target: Any, logits: torch.Tensor) -> torch.Tensor:
    batch = logits.shape[0]
    if target is None:
        chosen = torch.zeros(batch, dtype=torch.long) if logits.shape[-1] == 1 else logits.argmax(-1).cpu()
    else:
        chosen = torch.as_tensor(np.asarray(target)).long().reshape(-1).cpu()
        chosen = chosen.expand(batch) if chosen.numel() == 1 else chosen
        if chosen.numel() != batch or chosen.min() < 0 or chosen.max() >= logits.shape[-1]:
            raise ValueError(f"target must be one index or one per sample, each in [0, {logits.shape[-1]}); "
                             f"got {np.asarray(target).tolist()}.")
    return chosen.to(logits.device)


def _token_embedding(model: nn.Module) -> nn.Module | None:
    from ember.layers.embedding import Embedding

    return next((m for m in model.modules() if isinstance(m, (Embedding, nn.Embedding))), None)


def _pixel_attribution(attributions: Any, forward: Any, inputs: torch.Tensor, targets: torch.Tensor, method: str,
                       baselines: Any, n_steps: int, samples: int, window: int | None) -> Explanation:
    inputs = inputs.clone().requires_grad_(True)
    delta = None
    if method == "saliency":
        values = attributions.Saliency(forward).attribute(inputs, target=targets, abs=True)
    elif method == "input_x_gradient":
        values = attributions.InputXGradient(forward).attribute(inputs, target=targets)
    elif method == "integrated_gradients":
        base = torch.zeros_like(inputs) if baselines is None else torch.as_tensor(
            np.asarray(baselines), dtype=inputs.dtype, device=inputs.device).expand_as(inputs)
        values, delta = attributions.IntegratedGradients(forward).attribute(
            inputs, baselines=base, target=targets, n_steps=n_steps, return_convergence_delta=True)
    elif method == "smoothgrad":
        spread = float((inputs.max() - inputs.min()).item()) * 0.15 or 0.15
        values = attributions.NoiseTunnel(attributions.Saliency(forward)).attribute(
            inputs, nt_type="smoothgrad", nt_samples=samples, stdevs=spread, target=targets)
    else:
        shape, strides = _occlusion_window(inputs, window)
        values = attributions.Occlusion(forward).attribute(inputs, sliding_window_shapes=shape, strides=strides,
                                                           target=targets)
    return Explanation(values.detach().cpu().numpy(), inputs.detach().cpu().numpy(), method, targets.cpu().numpy(),
                       None if delta is None else delta.detach().cpu().numpy())


def _occlusion_window(inputs: torch.Tensor, window: int | None) -> tuple[tuple, tuple]:
    if inputs.ndim == 4:  # (batch, height, width, channels)
        size = window or max(2, inputs.shape[1] // 7)
        return (size, size, inputs.shape[3]), (max(1, size // 2), max(1, size // 2), inputs.shape[3])
    if inputs.ndim == 3:  # (batch, steps, features)
        size = window or max(1, inputs.shape[1] // 10)
        return (size, inputs.shape[2]), (max(1, size // 2), inputs.shape[2])
    return (window or 1,) * (inputs.ndim - 1), (1,) * (inputs.ndim - 1)


def _token_attribution(attributions: Any, forward: Any, embedding: nn.Module, inputs: torch.Tensor,
                       targets: torch.Tensor, method: str, n_steps: int) -> Explanation:
    """Attributions in embedding space, summed per token.

    The model runs on the real token ids (so padding masks stay as they are) while a hook puts the
    interpolated embeddings in place of the embedding layer's output; the baseline is the zero
    embedding. Integrated gradients' completeness then holds exactly along that path.
    """
    def forward_from_embeddings(embedded: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        handle = embedding.register_forward_hook(lambda module, arguments, output: embedded)
        try:
            return forward(ids)
        finally:
            handle.remove()

    with torch.no_grad():
        embedded = embedding(inputs).detach()
    embedded.requires_grad_(True)
    delta = None
    if method == "integrated_gradients":
        values, delta = attributions.IntegratedGradients(forward_from_embeddings).attribute(
            embedded, baselines=torch.zeros_like(embedded), target=targets, n_steps=n_steps,
            additional_forward_args=(inputs,), return_convergence_delta=True)
    elif method == "input_x_gradient":
        values = attributions.InputXGradient(forward_from_embeddings).attribute(
            embedded, target=targets, additional_forward_args=(inputs,))
    elif method == "saliency":
        values = attributions.Saliency(forward_from_embeddings).attribute(
            embedded, target=targets, additional_forward_args=(inputs,), abs=True)
    else:
        raise ValueError(f"Method {method!r} does not apply to a model that reads token ids; use "
                         "'integrated_gradients', 'input_x_gradient' or 'saliency' (per token, through the "
                         "embedding layer).")
    per_token = values.sum(dim=-1)  # (batch, steps)
    return Explanation(per_token.detach().cpu().numpy(), inputs.cpu().numpy(), method, targets.cpu().numpy(),
                       None if delta is None else delta.detach().cpu().numpy())


def convolution_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The model's convolution layers by name (ember's Conv1D/Conv2D and torch's Conv1d/Conv2d)."""
    from ember.layers.conv import _Conv

    found = {}
    for module_name, module in model.named_modules():
        if isinstance(module, (_Conv, nn.Conv1d, nn.Conv2d)):
            found[getattr(module, "name", module_name)] = module
    return found


def _grad_cam(model: nn.Module, forward: Any, inputs: torch.Tensor, targets: torch.Tensor,
              layer_name: str | None) -> np.ndarray:
    from captum._utils.gradient import compute_layer_gradients_and_eval
    from captum.attr import LayerAttribution

    layers = convolution_layers(model)
    if not layers:
        raise ValueError("Grad-CAM needs a convolution layer, and this model has none. Methods that apply: "
                         f"{', '.join(PIXEL_METHODS)}.")
    if layer_name is None:
        layer_name = list(layers)[-1]
    if layer_name not in layers:
        raise ValueError(f"No convolution layer named {layer_name!r}. The model's convolution layers are: "
                         f"{list(layers)}.")
    layer = layers[layer_name]
    gradients, activations = compute_layer_gradients_and_eval(forward, layer, inputs.float(), target_ind=targets)
    gradients, activations = flatten(gradients)[0], flatten(activations)[0]
    channels_last = getattr(layer, "data_format", "channels_first") == "channels_last"
    if channels_last:  # (batch, *spatial, channels) -> (batch, channels, *spatial)
        gradients, activations = gradients.movedim(-1, 1), activations.movedim(-1, 1)
    weights = gradients.mean(dim=tuple(range(2, gradients.ndim)), keepdim=True)
    cam = torch.relu((weights * activations).sum(dim=1, keepdim=True))  # (batch, 1, *spatial)
    spatial = tuple(inputs.shape[1:-1]) if channels_last else tuple(inputs.shape[2:])
    if cam.ndim == 4 and len(spatial) == 2:
        cam = LayerAttribution.interpolate(cam, spatial, interpolate_mode="bilinear")
    return cam[:, 0].detach().cpu().numpy()
