"""ember.applications: the architectures have Keras's exact weight counts and layer names, run on
small images without the top, and load converted weights from safetensors files."""

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file

import ember
from ember import applications

# Keras 3's model.summary() totals for the ImageNet models (trainable, non-trainable). EfficientNetB0's
# Normalization keeps no sample count, one scalar fewer than Keras's.
KERAS_COUNTS = {"ResNet50": (25_583_592, 53_120), "MobileNetV2": (3_504_872, 34_112),
                "EfficientNetB0": (5_288_548, 42_022), "VGG16": (138_357_544, 0),
                "VGG19": (143_667_240, 0)}


def counts(model):
    return (sum(w.numel() for w in model.trainable_weights), sum(w.numel() for w in model.non_trainable_weights))


@pytest.mark.parametrize("name", sorted(KERAS_COUNTS))
def test_weight_counts_equal_keras(name):
    model = getattr(applications, name)()
    assert counts(model) == KERAS_COUNTS[name]
    assert model.output_shape == (None, 1000) and model.layers[-1].name == "predictions"


def test_keras_layer_names():
    names = {layer.name for layer in applications.ResNet50(include_top=False).layers}
    assert {"conv1_conv", "conv2_block1_0_conv", "conv4_block6_3_bn", "conv5_block3_out"} <= names
    names = {layer.name for layer in applications.MobileNetV2(include_top=False).layers}
    assert {"Conv1", "expanded_conv_depthwise", "block_16_project_BN", "out_relu"} <= names
    names = {layer.name for layer in applications.EfficientNetB0(include_top=False).layers}
    assert {"stem_conv", "block1a_se_excite", "block6d_add", "top_activation"} <= names


@pytest.mark.parametrize("name, features", [("ResNet50", 2048), ("MobileNetV2", 1280), ("EfficientNetB0", 1280),
                                            ("VGG16", 512)])
def test_feature_extractors_run_on_small_images(name, features):
    model = getattr(applications, name)(include_top=False, input_shape=(64, 64, 3), pooling="avg")
    images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    module = getattr(applications, {"ResNet50": "resnet50", "VGG16": "vgg16", "MobileNetV2": "mobilenet_v2",
                                    "EfficientNetB0": "efficientnet"}[name])
    output = model.predict(module.preprocess_input(images), verbose=0)
    assert output.shape == (2, features) and np.isfinite(output).all()


def test_transfer_learning_the_keras_way():
    base = applications.MobileNetV2(include_top=False, input_shape=(32, 32, 3), weights=None, alpha=0.35)
    base.trainable = False
    model = ember.Sequential([ember.Input((32, 32, 3)), base, ember.layers.GlobalAveragePooling2D(),
                              ember.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    before = [w.numpy().copy() for w in base.weights]
    rng = np.random.default_rng(0)
    model.fit(rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32"), rng.integers(0, 2, 8), epochs=1, verbose=0)
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, base.weights))   # frozen, moving stats too


def test_converted_weights_load_from_safetensors(tmp_path):
    source = applications.VGG16(include_top=False, input_shape=(32, 32, 3))
    keras_layout = {f"{layer.name}/{i}": np.ascontiguousarray(w) for layer in source.layers
                    for i, w in enumerate(layer.get_weights())}
    save_file(keras_layout, str(tmp_path / "vgg16_notop.safetensors"))
    loaded = applications.VGG16(include_top=False, input_shape=(32, 32, 3), weights=tmp_path / "vgg16_notop.safetensors")
    x = np.random.default_rng(1).random((1, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), source.predict(x, verbose=0), rtol=1e-5)
    source.save_weights(tmp_path / "ember_names.safetensors")   # ember's own state_dict names load too
    again = applications.VGG16(include_top=False, input_shape=(32, 32, 3), weights=tmp_path / "ember_names.safetensors")
    np.testing.assert_allclose(again.predict(x, verbose=0), source.predict(x, verbose=0), rtol=1e-5)
    del keras_layout["block3_conv2/0"]
    save_file(keras_layout, str(tmp_path / "partial.safetensors"))
    with pytest.raises(ValueError, match="no weights for layer 'block3_conv2'"):
        applications.VGG16(include_top=False, input_shape=(32, 32, 3), weights=tmp_path / "partial.safetensors")


def test_bad_arguments_say_what_to_do():
    with pytest.raises(ValueError, match="ships no pretrained weights.*weights=None"):
        applications.ResNet50(weights="imagenet")
    with pytest.raises(ValueError, match="include_top=True the input is 224x224"):
        applications.ResNet50(input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="pooling is None, 'avg' or 'max'"):
        applications.VGG16(include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="at least 32x32"):
        applications.MobileNetV2(include_top=False, input_shape=(16, 16, 3))
