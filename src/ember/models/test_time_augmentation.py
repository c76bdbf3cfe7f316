"""TestTimeAugmentation: a model whose predictions at inference are averaged over flipped copies of
each image (the speed-record CIFAR recipes' last step); in training it is the wrapped model itself."""

from __future__ import annotations

from typing import Any

import torch

from ember.layers.serialization import deserialize_layer, serialize_layer
from ember.models.model import Model

_AXES = {"horizontal": 2, "vertical": 1}  # channels-last images (batch, height, width, channels)


class TestTimeAugmentation(Model):
    """Wraps `model` (images `(batch, height, width, channels)` in, scores out): in inference it
    returns the mean of the model's outputs on the images and on each flip in `flips`; in training
    it is `model` unchanged. Compile and fit the wrapper (validation then uses the averaged
    predictions), or compile it for `evaluate`/`predict` of a trained model.

    Args:
        model: the model to wrap. flips: "horizontal" and/or "vertical".
    """

    def __init__(self, model: Any, flips: Any = ("horizontal",), name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        flips = [flips] if isinstance(flips, str) else list(flips)
        unknown = [flip for flip in flips if flip not in _AXES]
        if unknown or not flips:
            raise ValueError(f"TestTimeAugmentation: flips must be a non-empty list of {sorted(_AXES)}; got {flips}.")
        self.inner, self.flips = model, flips

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if self.training:
            return self.inner(inputs)
        if inputs.ndim != 4:
            raise ValueError(f"TestTimeAugmentation flips images (batch, height, width, channels); got input of "
                             f"shape {tuple(inputs.shape)}.")
        outputs = [self.inner(inputs)] + [self.inner(inputs.flip(_AXES[flip])) for flip in self.flips]
        return torch.stack(outputs).mean(dim=0)

    @property
    def layers(self) -> list:
        return [self.inner]

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "model": serialize_layer(self.inner), "flips": self.flips}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "TestTimeAugmentation":
        config = dict(config)
        return cls(deserialize_layer(config.pop("model")), **config)
