import numpy as np

import ember
from ember import layers


class TwoLayerNet(ember.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(16, activation="relu")
        self.dropout = layers.Dropout(0.1)
        self.out = layers.Dense(3, activation="softmax")

    def call(self, inputs, training=None):
        return self.out(self.dropout(self.hidden(inputs), training=training))


def test_subclassed_model_compiles_fits_and_predicts(blobs):
    x, y = blobs
    model = TwoLayerNet()
    model.compile(optimizer=ember.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    assert model.predict(x[:5], verbose=0).shape == (5, 3)
    assert [layer.name for layer in model.layers] == ["dense", "dropout", "dense_1"]


def test_subclassed_model_weights_round_trip(blobs, tmp_path):
    x, y = blobs
    model = TwoLayerNet()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    model.save_weights(tmp_path / "net.weights.safetensors")
    other = TwoLayerNet()
    other.build((None, 4))
    other.load_weights(tmp_path / "net.weights.safetensors")
    np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
