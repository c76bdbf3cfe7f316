import numpy as np
import pytest

import ember
from ember import explain, layers


@pytest.fixture
def image_model():
    rng = np.random.default_rng(0)
    x = rng.random((96, 8, 8, 1)).astype("float32")
    y = (x[:, :4].mean((1, 2, 3)) > x[:, 4:].mean((1, 2, 3))).astype("int64")
    model = ember.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(4, 3, padding="same", activation="relu",
                                                                     name="features"),
                              layers.Flatten(), layers.Dense(2, activation="softmax")])
    model.compile(ember.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=3, verbose=0)
    return model, x


def test_integrated_gradients_completeness_on_a_linear_model():
    model = ember.Sequential([layers.Input((5,)), layers.Dense(1)])
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    result = explain.attribute(model, x, method="integrated_gradients")
    outputs = model.predict(x, verbose=0)[:, 0] - model.predict(np.zeros_like(x), verbose=0)[:, 0]
    np.testing.assert_allclose(result.values.sum(1), outputs, rtol=1e-4, atol=1e-5)
    kernel = model.layers[0].get_weights()[0][:, 0]
    np.testing.assert_allclose(result.values, x * kernel, rtol=1e-4, atol=1e-5)  # exact for a linear model
    assert explain.completeness_gap(result) < 1e-4


@pytest.mark.parametrize("method", explain.METHODS)
def test_every_method_gives_input_shaped_attributions(image_model, method):
    model, x = image_model
    result = model.explain(x[:3], method=method)
    assert result.values.shape == ((3, 8, 8) if method == "grad_cam" else (3, 8, 8, 1))
    assert np.isfinite(result.values).all() and result.target.shape == (3,)


def test_grad_cam_layer_lookup_and_errors(image_model):
    model, x = image_model
    assert list(explain.convolution_layers(model)) == ["features"]
    assert explain.attribute(model, x[:2], method="grad_cam", layer="features").values.shape == (2, 8, 8)
    with pytest.raises(ValueError, match=r"No convolution layer named 'conv9'. The model's convolution layers "
                                         r"are: \['features'\]"):
        explain.attribute(model, x[:2], method="grad_cam", layer="conv9")
    dense = ember.Sequential([layers.Input((4,)), layers.Dense(2, activation="softmax")])
    with pytest.raises(ValueError, match="Grad-CAM needs a convolution layer.*Methods that apply: saliency"):
        explain.attribute(dense, np.zeros((1, 4)), method="grad_cam")


def test_input_of_the_wrong_shape_names_both_shapes(image_model):
    model, _ = image_model
    with pytest.raises(ValueError, match=r"expects input of shape \(None, 8, 8, 1\); got shape \(2, 8, 8\)"):
        explain.attribute(model, np.zeros((2, 8, 8)), method="saliency")
    with pytest.raises(ValueError, match="Unknown attribution method 'lime'"):
        explain.attribute(model, np.zeros((1, 8, 8, 1)), method="lime")


def test_functional_and_subclassed_models_and_targets():
    inputs = ember.Input((6,))
    functional = ember.Model(inputs, layers.Dense(3, activation="softmax")(layers.Dense(4, activation="relu")(inputs)))

    class Subclassed(ember.Model):
        def __init__(self):
            super().__init__()
            self.hidden, self.out = layers.Dense(4, activation="relu"), layers.Dense(3)

        def call(self, x):
            return self.out(self.hidden(x))

    subclassed = Subclassed()
    subclassed.build((None, 6))
    x = np.random.default_rng(1).normal(size=(5, 6)).astype("float32")
    for model in (functional, subclassed):
        result = explain.attribute(model, x, target=2, method="input_x_gradient")
        assert result.values.shape == (5, 6) and set(result.target) == {2}


def test_token_attributions_through_the_embedding_are_complete_and_respect_padding():
    model = ember.Sequential([layers.Input((6,), dtype="int64"), layers.Embedding(20, 4, mask_zero=True),
                              layers.LSTM(3), layers.Dense(1, activation="sigmoid")])
    ids = np.array([[0, 0, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6]])
    result = model.explain(ids, method="integrated_gradients")
    assert result.values.shape == (2, 6) and explain.completeness_gap(result) < 1e-3
    np.testing.assert_allclose(result.values[0, :2], 0.0, atol=1e-7)  # padding never matters
    with pytest.raises(ValueError, match="does not apply to a model that reads token ids"):
        model.explain(ids, method="occlusion")


def test_model_randomization_check_tells_grad_cam_apart(image_model):
    model, x = image_model
    check = explain.model_randomization_check(model, x[:4], method="grad_cam")
    assert -1 <= check.rank_correlation <= 1 and check.trained.values.shape == check.randomized.values.shape
    original = [w.copy() for w in model.get_weights()]
    explain.randomize_weights(model)
    for before, after in zip(original, model.get_weights()):
        np.testing.assert_array_equal(before, after)  # the trained model itself is untouched


def test_pictures_png_html_and_bars(image_model, tmp_path):
    model, x = image_model
    model.explain(x[:2], method="grad_cam").save_png(str(tmp_path / "cam.png"))
    assert (tmp_path / "cam.png").read_bytes()[:4] == b"\x89PNG"
    table = ember.Sequential([layers.Input((3,)), layers.Dense(1, activation="sigmoid")])
    table.explain(np.ones((4, 3), "float32")).save_bar_chart(str(tmp_path / "bars.png"), ["a", "b", "c"])
    assert (tmp_path / "bars.png").exists()
    text_model = ember.Sequential([layers.Input((3,), dtype="int64"), layers.Embedding(10, 2),
                                   layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")])
    text_model.explain(np.array([[1, 2, 3]])).save_html(str(tmp_path / "t.html"), [["good", "bad", "film"]])
    assert "good" in (tmp_path / "t.html").read_text()


def test_ember_explain_command(image_model, tmp_path):
    from ember.cli import main

    model, x = image_model
    model.save(tmp_path / "m.ember")
    np.save(tmp_path / "batch.npy", x[:2])
    assert main(["explain", str(tmp_path / "m.ember"), str(tmp_path / "batch.npy"), "--method", "grad_cam",
                 "--output", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "explanation.png").exists()
    tokenizer = ember.text.Tokenizer()
    tokenizer.fit_on_texts(["a good film", "a bad film"])
    (tmp_path / "tok.json").write_text(tokenizer.to_json())
    (tmp_path / "review.txt").write_text("a good film")
    text_model = ember.Sequential([layers.Input((5,), dtype="int64"), layers.Embedding(10, 2, mask_zero=True),
                                   layers.LSTM(2), layers.Dense(1, activation="sigmoid")])
    text_model.save(tmp_path / "text.ember")
    assert main(["explain", str(tmp_path / "text.ember"), str(tmp_path / "review.txt"), "--tokenizer",
                 str(tmp_path / "tok.json"), "--maxlen", "5", "--output", str(tmp_path / "out")]) == 0
    assert "good" in (tmp_path / "out" / "explanation.html").read_text()
