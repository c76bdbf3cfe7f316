"""Keras-compatible preprocessing paths: `ember.preprocessing.sequence.pad_sequences`,
`ember.preprocessing.text.Tokenizer`."""

from ember.preprocessing import sequence, text

__all__ = ["sequence", "text"]
