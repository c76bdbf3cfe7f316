"""Keras path `ember.preprocessing.sequence`: re-exports `ember.text.pad_sequences`."""

from ember.text import pad_sequences

__all__ = ["pad_sequences"]
