"""Layers: `ember.layers.Dense`, `ember.layers.Dropout`, ... (Keras 3 names and arguments)."""

from ember.layers.activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from ember.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from ember.layers.augmentation import (RandomContrast, RandomCrop, RandomFlip, RandomRotation, RandomTranslation,
                                      RandomZoom)
from ember.layers.audio import MFCC, MelSpectrogram, STFTSpectrogram
from ember.layers.base import Layer
from ember.layers.conv import Conv1D, Conv2D, Conv2DTranspose, Conv3D, DepthwiseConv2D, SeparableConv2D
from ember.layers.embedding import Embedding, Masking
from ember.layers.core import (Activation, ActivityRegularization, Dense, Dropout, Flatten, GaussianNoise,
                               Identity, Lambda, Permute, RepeatVector, Reshape, SpatialDropout2D)
from ember.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add,
                                  average, concatenate, dot, maximum, minimum, multiply, subtract)
from ember.layers.normalization import BatchNormalization, LayerNormalization
from ember.layers.pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D, GlobalAveragePooling1D,
                                 GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D,
                                 MaxPooling2D, MaxPooling3D)
from ember.layers.preprocessing import CenterCrop, Normalization, Rescaling, Resizing
from ember.layers.recurrent import GRU, LSTM, SimpleRNN
from ember.layers.spec_augment import FrequencyMasking, TimeMasking
from ember.layers.reshaping import Cropping2D, UpSampling2D, ZeroPadding2D
from ember.layers.input_layer import Input, InputLayer
from ember.layers.text_vectorization import TextVectorization
from ember.layers.position import (PositionEmbedding, RotaryEmbedding, SinePositionEncoding,
                                  TokenAndPositionEmbedding)
from ember.layers.transformer import Transformer, TransformerDecoder, TransformerEncoder
from ember.layers.wrappers import Bidirectional, SpectralNormalization, TimeDistributed, TorchModuleWrapper
from ember.layers.serialization import deserialize_layer as deserialize
from ember.layers.serialization import serialize_layer as serialize
from ember.layers.quantum import PQC, PennyLaneLayer, QuantumLayer

__all__ = [
    "STFTSpectrogram", "MelSpectrogram", "MFCC", "FrequencyMasking", "TimeMasking",
    "Layer", "Input", "InputLayer", "Dense", "Activation", "Dropout", "Flatten", "Reshape", "Permute",
    "RepeatVector", "Lambda", "GaussianNoise", "ActivityRegularization", "Identity", "Add", "Subtract",
    "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "add", "concatenate",
    "subtract", "multiply", "average", "maximum", "minimum", "dot", "BatchNormalization",
    "LayerNormalization", "Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
    "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "Embedding", "Masking", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "TimeDistributed", "TextVectorization",
    "Conv3D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling3D", "AveragePooling3D",
    "UpSampling2D",
    "ZeroPadding2D", "Cropping2D", "SpatialDropout2D", "Rescaling", "Normalization", "Resizing", "CenterCrop",
    "RandomFlip", "RandomCrop", "RandomTranslation", "RandomRotation", "RandomZoom", "RandomContrast",
    "MultiHeadAttention", "PositionEmbedding", "SinePositionEncoding", "TokenAndPositionEmbedding",
    "TransformerEncoder", "TransformerDecoder", "Transformer", "Attention", "AdditiveAttention",
    "SpectralNormalization", "LeakyReLU", "ReLU", "ELU", "PReLU", "Softmax",
    "RotaryEmbedding", "TorchModuleWrapper", "PQC", "PennyLaneLayer", "QuantumLayer", "serialize", "deserialize",
]
