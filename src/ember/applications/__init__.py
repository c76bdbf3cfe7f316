"""`keras.applications` architectures built from ember layers, with Keras's layer names:
ResNet50, VGG16, VGG19, MobileNetV2, EfficientNetB0. Weights are random (`weights=None`, the default);
converted weights load from a local safetensors file (`weights="path.safetensors"`, see
`load_weights`). Each model's `preprocess_input` is beside it (`ember.applications.resnet50`...)."""

from ember.applications import efficientnet, mobilenet_v2, preprocessing, resnet, vgg
from ember.applications._common import load_weights
from ember.applications.efficientnet import EfficientNetB0
from ember.applications.mobilenet_v2 import MobileNetV2
from ember.applications.preprocessing import preprocess_caffe, preprocess_tf
from ember.applications.resnet import ResNet50
from ember.applications.vgg import VGG16, VGG19

resnet50 = resnet  # Keras's module paths: keras.applications.resnet50.preprocess_input
vgg16 = vgg19 = vgg

__all__ = ["ResNet50", "VGG16", "VGG19", "vgg19", "MobileNetV2", "EfficientNetB0", "load_weights", "resnet", "resnet50", "vgg",
           "vgg16", "mobilenet_v2", "efficientnet", "preprocessing", "preprocess_caffe", "preprocess_tf"]
