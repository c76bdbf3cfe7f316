"""utils.plot_model / model_to_dot: the layer graph as DOT text, drawn by Graphviz's dot program."""

import os
import stat

import pytest

import ember
from ember import layers


def _branching_model():
    inputs = ember.Input((8,), name="x")
    left = layers.Dense(4, activation="relu", name="left")(inputs)
    right = layers.Dense(4, name="right")(inputs)
    joined = layers.Concatenate(name="join")([left, right])
    return ember.Model(inputs, layers.Dense(1, name="out")(joined))


def test_the_dot_text_has_one_box_per_layer_call_and_an_arrow_per_tensor():
    text = ember.utils.model_to_dot(_branching_model(), show_shapes=True, show_layer_activations=True,
                                    show_trainable=True, rankdir="LR")
    assert "rankdir=LR" in text
    assert text.count("->") == 5 and "n0 -> n1;" in text and "n2 -> n3;" in text and "n3 -> n4;" in text
    assert "{left|Dense|activation: relu|input: (None, 8)|output: (None, 4)|trainable: yes}" in text
    assert "input: (None, 4), (None, 4)|output: (None, 8)" in text


def test_a_sequential_without_input_is_a_chain():
    text = ember.utils.model_to_dot(ember.Sequential([layers.Dense(3, name="a"), layers.Dense(1, name="b")]))
    assert '{a|Dense}' in text and "n0 -> n1;" in text


def test_dot_files_need_no_graphviz_and_drawing_without_it_says_how_to_get_it(tmp_path, monkeypatch):
    model = _branching_model()
    path = ember.utils.plot_model(model, tmp_path / "model.dot")
    assert open(path).read().startswith('digraph "')
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ImportError, match="Graphviz's `dot` program.*apt install graphviz.*model.dot"):
        ember.utils.plot_model(model, tmp_path / "model.png")
    with pytest.raises(ValueError, match="cannot draw a .bmp"):
        ember.utils.plot_model(model, tmp_path / "model.bmp")


def test_drawing_hands_the_dot_text_to_graphviz(tmp_path, monkeypatch):
    """A stand-in `dot` on PATH records its arguments and input (CI has no Graphviz)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/args"\ncat > "$3"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    target = tmp_path / "model.svg"
    assert ember.utils.plot_model(_branching_model(), target, show_shapes=True) == str(target)
    assert (bin_dir / "args").read_text().split() == ["-Tsvg", "-o", str(target)]
    assert "output: (None, 1)" in target.read_text()
