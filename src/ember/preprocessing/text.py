"""Keras path `ember.preprocessing.text`: re-exports `ember.text`."""

from ember.text import Tokenizer, text_to_word_sequence, tokenizer_from_json

__all__ = ["Tokenizer", "tokenizer_from_json", "text_to_word_sequence"]
