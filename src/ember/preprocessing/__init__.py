"""Keras-compatible preprocessing paths (`ember.preprocessing.sequence.pad_sequences`)."""

from ember.preprocessing import sequence

__all__ = ["sequence"]
