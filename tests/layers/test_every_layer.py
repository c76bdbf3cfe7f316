"""The shared layer check (`check_layer`: build, output shape, backward, config round trip, save
and load) on every concrete layer class ember has. A new layer is one line in CASES; the coverage
test fails until it has one (or an entry in EXEMPT saying why it cannot)."""

from __future__ import annotations

import inspect

import pytest
import torch

import ember
from ember import layers
from ember.layers.base import Layer
from tests.conftest import check_layer

INT = torch.int64


def _double(x):
    return x * 2


def _two_qubit_circuit(state, inputs, weights):
    state.angle_embedding(inputs)
    state.basic_entangler_layers(weights)
    return state.expval_z()


# class name: (make the layer, input shape(s), output shape, and options for check_layer)
CASES = {
    "Dense": (lambda: layers.Dense(3, activation="relu"), (4, 5), (4, 3), {}),
    "Activation": (lambda: layers.Activation("tanh"), (2, 3), (2, 3), {}),
    "Dropout": (lambda: layers.Dropout(0.3), (4, 6), (4, 6), {}),
    "Flatten": (lambda: layers.Flatten(), (2, 3, 4), (2, 12), {}),
    "Reshape": (lambda: layers.Reshape((4, 3)), (2, 12), (2, 4, 3), {}),
    "Permute": (lambda: layers.Permute((2, 1)), (2, 3, 4), (2, 4, 3), {}),
    "RepeatVector": (lambda: layers.RepeatVector(3), (2, 5), (2, 3, 5), {}),
    "Lambda": (lambda: layers.Lambda(_double), (2, 3), (2, 3), {"custom_objects": {"_double": _double}}),
    "GaussianNoise": (lambda: layers.GaussianNoise(0.1), (2, 3), (2, 3), {}),
    "ActivityRegularization": (lambda: layers.ActivityRegularization(l1=0.01), (2, 3), (2, 3), {}),
    "Identity": (lambda: layers.Identity(), (2, 3), (2, 3), {}),
    "SpatialDropout2D": (lambda: layers.SpatialDropout2D(0.2), (2, 4, 4, 3), (2, 4, 4, 3), {}),
    "Add": (lambda: layers.Add(), [(2, 3), (2, 3)], (2, 3), {"inputs_as": "list"}),
    "Subtract": (lambda: layers.Subtract(), [(2, 3), (2, 3)], (2, 3), {"inputs_as": "list"}),
    "Multiply": (lambda: layers.Multiply(), [(2, 3), (2, 3)], (2, 3), {"inputs_as": "list"}),
    "Average": (lambda: layers.Average(), [(2, 3), (2, 3)], (2, 3), {"inputs_as": "list"}),
    "Maximum": (lambda: layers.Maximum(), [(2, 3), (2, 3)], (2, 3), {"inputs_as": "list"}),
    "Minimum": (lambda: layers.Minimum(), [(2, 3), (2, 3)], (2, 3), {"inputs_as": "list"}),
    "Concatenate": (lambda: layers.Concatenate(), [(2, 3), (2, 4)], (2, 7), {"inputs_as": "list"}),
    "Dot": (lambda: layers.Dot(axes=-1), [(2, 4, 3), (2, 5, 3)], (2, 4, 5), {"inputs_as": "list"}),
    "BatchNormalization": (lambda: layers.BatchNormalization(), (8, 3), (8, 3), {}),
    "LayerNormalization": (lambda: layers.LayerNormalization(), (2, 5, 6), (2, 5, 6), {}),
    "Conv1D": (lambda: layers.Conv1D(4, 3, padding="same"), (2, 10, 3), (2, 10, 4), {}),
    "Conv2D": (lambda: layers.Conv2D(4, 3), (2, 7, 7, 3), (2, 5, 5, 4), {}),
    "Conv3D": (lambda: layers.Conv3D(2, 3, padding="same"), (1, 4, 4, 4, 3), (1, 4, 4, 4, 2), {}),
    "Conv2DTranspose": (lambda: layers.Conv2DTranspose(2, 3, strides=2, padding="same"), (2, 3, 3, 4),
                        (2, 6, 6, 2), {}),
    "DepthwiseConv2D": (lambda: layers.DepthwiseConv2D(3, depth_multiplier=2), (2, 6, 6, 3), (2, 4, 4, 6), {}),
    "SeparableConv2D": (lambda: layers.SeparableConv2D(5, 3, padding="same"), (2, 6, 6, 3), (2, 6, 6, 5), {}),
    "MaxPooling1D": (lambda: layers.MaxPooling1D(2), (2, 8, 3), (2, 4, 3), {}),
    "MaxPooling2D": (lambda: layers.MaxPooling2D(), (2, 7, 7, 3), (2, 3, 3, 3), {}),
    "MaxPooling3D": (lambda: layers.MaxPooling3D(), (1, 4, 4, 4, 2), (1, 2, 2, 2, 2), {}),
    "AveragePooling1D": (lambda: layers.AveragePooling1D(2), (2, 8, 3), (2, 4, 3), {}),
    "AveragePooling2D": (lambda: layers.AveragePooling2D(), (2, 6, 6, 3), (2, 3, 3, 3), {}),
    "AveragePooling3D": (lambda: layers.AveragePooling3D(), (1, 4, 4, 4, 2), (1, 2, 2, 2, 2), {}),
    "GlobalAveragePooling1D": (lambda: layers.GlobalAveragePooling1D(), (2, 5, 3), (2, 3), {}),
    "GlobalAveragePooling2D": (lambda: layers.GlobalAveragePooling2D(), (2, 5, 5, 3), (2, 3), {}),
    "GlobalMaxPooling1D": (lambda: layers.GlobalMaxPooling1D(), (2, 5, 3), (2, 3), {}),
    "GlobalMaxPooling2D": (lambda: layers.GlobalMaxPooling2D(), (2, 5, 5, 3), (2, 3), {}),
    "UpSampling2D": (lambda: layers.UpSampling2D((2, 3)), (2, 3, 4, 5), (2, 6, 12, 5), {}),
    "ZeroPadding2D": (lambda: layers.ZeroPadding2D(((1, 2), (0, 1))), (2, 3, 4, 5), (2, 6, 5, 5), {}),
    "Cropping2D": (lambda: layers.Cropping2D(((1, 0), (1, 1))), (2, 3, 4, 5), (2, 2, 2, 5), {}),
    "Rescaling": (lambda: layers.Rescaling(1 / 255, offset=-0.5), (2, 4, 4, 3), (2, 4, 4, 3), {}),
    "Normalization": (lambda: layers.Normalization(mean=[0.0, 1.0, 2.0], variance=[1.0, 4.0, 9.0]), (2, 3),
                      (2, 3), {}),
    "Resizing": (lambda: layers.Resizing(3, 4), (2, 6, 8, 3), (2, 3, 4, 3), {}),
    "CenterCrop": (lambda: layers.CenterCrop(4, 4), (2, 6, 8, 3), (2, 4, 4, 3), {}),
    "RandomFlip": (lambda: layers.RandomFlip(seed=1), (2, 6, 6, 3), (2, 6, 6, 3), {}),
    "RandomCrop": (lambda: layers.RandomCrop(4, 4, seed=1), (2, 6, 6, 3), (2, 4, 4, 3), {}),
    "RandomTranslation": (lambda: layers.RandomTranslation(0.1, 0.1), (2, 6, 6, 3), (2, 6, 6, 3), {}),
    "RandomRotation": (lambda: layers.RandomRotation(0.1), (2, 6, 6, 3), (2, 6, 6, 3), {}),
    "RandomZoom": (lambda: layers.RandomZoom(0.1), (2, 6, 6, 3), (2, 6, 6, 3), {}),
    "RandomContrast": (lambda: layers.RandomContrast(0.2), (2, 6, 6, 3), (2, 6, 6, 3), {}),
    "STFTSpectrogram": (lambda: layers.STFTSpectrogram(frame_length=16, frame_step=8), (2, 64, 1), (2, 7, 9), {}),
    "MelSpectrogram": (lambda: layers.MelSpectrogram(fft_length=32, sequence_stride=16, sampling_rate=8000,
                                                     num_mel_bins=8), (2, 64), (2, 8, 5), {}),
    "MFCC": (lambda: layers.MFCC(num_mfcc=4, fft_length=32, sequence_stride=16, sampling_rate=8000, num_mel_bins=8),
             (2, 64), (2, 4, 5), {}),
    "FrequencyMasking": (lambda: layers.FrequencyMasking(3, seed=1), (2, 8, 5), (2, 8, 5), {}),
    "TimeMasking": (lambda: layers.TimeMasking(2, seed=1), (2, 8, 5), (2, 8, 5), {}),
    "Embedding": (lambda: layers.Embedding(10, 4), (2, 5), (2, 5, 4), {"dtype": INT}),
    "Masking": (lambda: layers.Masking(0.0), (2, 5, 3), (2, 5, 3), {}),
    "SimpleRNN": (lambda: layers.SimpleRNN(4), (2, 5, 3), (2, 4), {}),
    "LSTM": (lambda: layers.LSTM(4, return_sequences=True), (2, 5, 3), (2, 5, 4), {}),
    "GRU": (lambda: layers.GRU(4), (2, 5, 3), (2, 4), {}),
    "Bidirectional": (lambda: layers.Bidirectional(layers.LSTM(4)), (2, 5, 3), (2, 8), {}),
    "TimeDistributed": (lambda: layers.TimeDistributed(layers.Dense(3)), (2, 5, 4), (2, 5, 3), {}),
    "SpectralNormalization": (lambda: layers.SpectralNormalization(layers.Dense(3)), (2, 4), (2, 3), {}),
    "LeakyReLU": (lambda: layers.LeakyReLU(0.2), (2, 3), (2, 3), {}),
    "ReLU": (lambda: layers.ReLU(max_value=6.0), (2, 3), (2, 3), {}),
    "ELU": (lambda: layers.ELU(), (2, 3), (2, 3), {}),
    "PReLU": (lambda: layers.PReLU(), (2, 3), (2, 3), {}),
    "Softmax": (lambda: layers.Softmax(), (2, 3), (2, 3), {}),
    "MultiHeadAttention": (lambda: layers.MultiHeadAttention(2, 4), [(2, 5, 6), (2, 7, 6)], (2, 5, 6),
                           {"inputs_as": "args"}),
    "Attention": (lambda: layers.Attention(), [(2, 5, 4), (2, 6, 4)], (2, 5, 4), {"inputs_as": "list"}),
    "AdditiveAttention": (lambda: layers.AdditiveAttention(), [(2, 5, 4), (2, 6, 4)], (2, 5, 4),
                          {"inputs_as": "list"}),
    "PositionEmbedding": (lambda: layers.PositionEmbedding(sequence_length=8), (2, 5, 4), (2, 5, 4), {}),
    "SinePositionEncoding": (lambda: layers.SinePositionEncoding(), (2, 5, 6), (2, 5, 6), {}),
    "RotaryEmbedding": (lambda: layers.RotaryEmbedding(), (2, 5, 6), (2, 5, 6), {}),
    "TokenAndPositionEmbedding": (lambda: layers.TokenAndPositionEmbedding(30, 10, 4), (2, 7), (2, 7, 4),
                                  {"dtype": INT}),
    "TransformerEncoder": (lambda: layers.TransformerEncoder(12, 2), (2, 5, 8), (2, 5, 8), {}),
    "TransformerDecoder": (lambda: layers.TransformerDecoder(12, 2), [(2, 5, 8), (2, 6, 8)], (2, 5, 8),
                           {"inputs_as": "args"}),
    "Transformer": (lambda: layers.Transformer(num_heads=2, d_model=8, num_layers=1), (2, 5, 8), (2, 5, 8), {}),
    "PQC": (lambda: layers.PQC(["pauli", "cnot"], 3, repetitions=2, activation="sigmoid"), (4, 3), (4, 3), {}),
    "QuantumLayer": (lambda: layers.QuantumLayer(_two_qubit_circuit, 2, {"weights": (2, 2)}), (4, 2), (4, 2),
                     {"custom_objects": {"_two_qubit_circuit": _two_qubit_circuit}}),
}

EXEMPT = {
    "InputLayer": "not called on data: it makes the symbolic input (tested in tests/models/test_functional.py)",
    "TextVectorization": "takes strings, not tensors (its adapt, config and save are in test_text_vectorization.py)",
    "TorchModuleWrapper": "its module is code, which a config never holds (tests/models/test_functional.py)",
    "PennyLaneLayer": "holds a PennyLane QNode, which is code (tests/quantum/test_layers.py, with PennyLane)",
}


def _concrete_layer_classes() -> set[str]:
    found, pending = set(), [Layer]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if subclass.__module__.startswith("ember.layers.") and not subclass.__name__.startswith("_") \
                    and not inspect.isabstract(subclass):
                found.add(subclass.__name__)
    return found


def test_every_concrete_layer_class_gets_the_shared_check():
    classes = _concrete_layer_classes()
    missing = sorted(classes - set(CASES) - set(EXEMPT))
    assert not missing, f"layer classes without an entry in CASES: {missing}"
    assert not set(CASES) - classes, "CASES names classes that are not layers"


def test_every_layer_class_is_public_in_ember_layers():
    hidden = sorted(name for name in _concrete_layer_classes()
                    if not hasattr(layers, name))
    assert not hidden, f"layer classes missing from ember.layers: {hidden}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_shared_layer_check(name, tmp_path):
    make, input_shape, output_shape, options = CASES[name]
    ember.utils.set_random_seed(0)
    check_layer(make(), input_shape, output_shape, tmp_path=tmp_path, **options)
