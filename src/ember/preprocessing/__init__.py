"""Keras-compatible preprocessing paths: `ember.preprocessing.sequence.pad_sequences`,
`ember.preprocessing.text.Tokenizer`."""

from ember.preprocessing import image, sequence, text

__all__ = ["image", "sequence", "text"]
