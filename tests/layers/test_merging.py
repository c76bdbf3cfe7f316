import pytest
import torch

from ember import layers


@pytest.mark.parametrize("layer_class, reference", [
    (layers.Add, lambda a, b: a + b), (layers.Subtract, lambda a, b: a - b), (layers.Multiply, lambda a, b: a * b),
    (layers.Average, lambda a, b: (a + b) / 2), (layers.Maximum, torch.maximum), (layers.Minimum, torch.minimum),
])
def test_elementwise_merges_match_torch(layer_class, reference):
    a, b = torch.randn(3, 4), torch.randn(3, 4)
    torch.testing.assert_close(layer_class()([a, b]), reference(a, b))


def test_concatenate_joins_along_axis_and_checks_shapes():
    a, b = layers.Input((3, 4)), layers.Input((3, 5))
    assert layers.Concatenate()([a, b]).shape == (None, 3, 9)
    assert layers.Concatenate(axis=1)([a, layers.Input((2, 4))]).shape == (None, 5, 4)
    with pytest.raises(ValueError, match="shapes match except along that axis"):
        layers.Concatenate(axis=1)([a, b])


def test_merge_requires_a_list():
    with pytest.raises(ValueError, match="list of tensors"):
        layers.Add()(layers.Input((3,)))


def test_add_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        layers.Add()([layers.Input((3,)), layers.Input((4,))])
