"""Keras 2 path `ember.preprocessing.image`: re-exports the image helpers of `ember.utils`."""

from ember.utils.image import array_to_img, img_to_array, load_img, save_img

__all__ = ["load_img", "img_to_array", "array_to_img", "save_img"]
