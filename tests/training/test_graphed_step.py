"""The CUDA-graph step, run on the CPU through `cuda_graph_emulator` (CI has no GPU): recorded and
replayed steps give the eager steps' losses, metrics, sample counts, weights and predictions; callbacks
that change the learning rate or stop training work; replaced state is noticed; a step that reads
values back to the host falls back to eager with one notice."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
from ember import callbacks, layers, optimizers
from ember.layers import shapes
from ember.training import graphs, steps
from tests.training.cuda_graph_emulator import EmulatedGraph, EmulatedGraphs

SAMPLES, BATCH = 300, 32  # 9 full batches and a last one of 12 per epoch


@pytest.fixture
def makers(monkeypatch):
    """Makes `jit_compile="auto"` record emulated graphs on the CPU; the list of makers made."""
    made: list[EmulatedGraphs] = []

    def maker_for(device):
        made.append(EmulatedGraphs())
        return made[-1]

    original = steps.step_kind

    def step_kind(jit_compile, device):
        return "graphed" if jit_compile == "auto" else original(jit_compile, device)

    monkeypatch.setattr(graphs, "maker_for", maker_for)
    monkeypatch.setattr(steps, "step_kind", step_kind)
    return made


def _data(classes: int = 3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5) if classes == 3 else (x[:, 0] > 0).astype("float32")
    return x, y


def _classifier(jit_compile, optimizer="adam", extra_layers=(), **compile_arguments):
    ember.utils.set_random_seed(3)
    model = ember.Sequential([layers.Input((6,)), layers.Dense(16, activation="relu"), *extra_layers,
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=jit_compile, **compile_arguments)
    return model


def _fit(model, x, y, **fit_arguments):
    ember.utils.set_random_seed(5)  # the same shuffling (and dropout masks) on both paths
    arguments = {"epochs": 3, "batch_size": BATCH, "verbose": 0, **fit_arguments}
    return model.fit(x, y, **arguments).history


def _replays(makers) -> int:
    return sum(graph.replays for maker in makers for graph in maker.graphs)


def _assert_same_training(eager, graphed, eager_history, graphed_history):
    assert eager_history.keys() == graphed_history.keys()
    for key in eager_history:
        np.testing.assert_allclose(graphed_history[key], eager_history[key], rtol=1e-5, atol=1e-6, err_msg=key)
    for before, after in zip(eager.get_weights(), graphed.get_weights()):
        np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("optimizer", [
    "adam", optimizers.AdamW(0.01), optimizers.SGD(0.05, momentum=0.9, nesterov=True, clipnorm=1.0),
    optimizers.Adam(0.01, weight_decay=0.01, global_clipnorm=0.5)], ids=["adam", "adamw", "sgd", "adam-decay"])
def test_graphed_fit_evaluate_predict_equal_eager(makers, optimizer):
    x, y = _data()
    copy = optimizers.get(optimizers.serialize(optimizers.get(optimizer)))
    eager, graphed = _classifier(False, copy), _classifier("auto", optimizer)
    eager_history, graphed_history = _fit(eager, x, y), _fit(graphed, x, y)
    _assert_same_training(eager, graphed, eager_history, graphed_history)
    train_replays = _replays(makers)
    # the first epoch warms up (again once the optimizer's state exists); later epochs replay every full
    # batch, and the last, smaller batches run eagerly
    assert 2 * 9 <= train_replays < 3 * 9
    np.testing.assert_allclose(graphed.evaluate(x, y, verbose=0), eager.evaluate(x, y, verbose=0), rtol=1e-5)
    predictions = graphed.predict(x, batch_size=BATCH, verbose=0)
    np.testing.assert_allclose(predictions, eager.predict(x, batch_size=BATCH, verbose=0), rtol=1e-5, atol=1e-7)
    assert _replays(makers) > train_replays  # evaluate and predict replayed too
    assert graphed.optimizer.iterations == eager.optimizer.iterations == 30


def test_graphed_samples_per_epoch_are_counted(makers):
    x, y = _data()
    model = _classifier("auto")
    _fit(model, x, y, epochs=2)
    assert sum(model.metrics[0].batch_sizes) == SAMPLES


def test_dropout_and_batch_norm_train_the_same(makers):
    x, y = _data()
    extra = lambda: [layers.BatchNormalization(), layers.Dropout(0.3)]  # noqa: E731
    eager, graphed = _classifier(False, extra_layers=extra()), _classifier("auto", extra_layers=extra())
    _assert_same_training(eager, graphed, _fit(eager, x, y), _fit(graphed, x, y))
    assert _replays(makers) > 0


def test_learning_rate_callbacks_and_schedules_reach_the_recorded_step(makers):
    x, y = _data()
    schedule = lambda: optimizers.schedules.ExponentialDecay(0.02, decay_steps=5, decay_rate=0.5)  # noqa: E731
    halve = lambda: [callbacks.LearningRateScheduler(lambda epoch, rate: rate * 0.5)]  # noqa: E731
    for optimizer, hooks in ((lambda: optimizers.Adam(schedule()), list), (lambda: optimizers.SGD(0.1), halve)):
        eager, graphed = _classifier(False, optimizer()), _classifier("auto", optimizer())
        _assert_same_training(eager, graphed, _fit(eager, x, y, callbacks=hooks()),
                              _fit(graphed, x, y, callbacks=hooks()))
        assert graphed.optimizer.learning_rate == eager.optimizer.learning_rate


class _StopAt(callbacks.Callback):
    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.step:
            self.model.stop_training = True


def test_stopping_mid_epoch_stops_the_graphed_loop(makers):
    x, y = _data()
    eager, graphed = _classifier(False), _classifier("auto")
    _assert_same_training(eager, graphed, _fit(eager, x, y, epochs=2, callbacks=[_StopAt(6)]),
                          _fit(graphed, x, y, epochs=2, callbacks=[_StopAt(6)]))
    assert graphed.optimizer.iterations == 7 and _replays(makers) > 0


def test_several_outputs_log_each_output_loss(makers):
    x, y = _data()
    histories = []
    for jit_compile in (False, "auto"):
        ember.utils.set_random_seed(3)
        inputs = layers.Input((6,))
        hidden = layers.Dense(8, activation="relu")(inputs)
        model = ember.Model(inputs, [layers.Dense(3, activation="softmax", name="kind")(hidden),
                                     layers.Dense(1, name="size")(hidden)])
        model.compile("adam", {"kind": "sparse_categorical_crossentropy", "size": "mse"},
                      loss_weights={"kind": 1.0, "size": 0.5}, metrics={"kind": "accuracy"}, jit_compile=jit_compile)
        histories.append(_fit(model, x, {"kind": y, "size": x[:, :1]}))
    assert "size_loss" in histories[1]
    for key in histories[0]:
        np.testing.assert_allclose(histories[1][key], histories[0][key], rtol=1e-5, err_msg=key)
    assert _replays(makers) > 0


def test_weights_set_in_place_are_seen_and_replaced_state_is_recorded_again(makers):
    x, y = _data()
    model = _classifier("auto")
    _fit(model, x, y, epochs=1)
    model.evaluate(x, y, batch_size=BATCH, verbose=0)  # records the test step
    other = _classifier(False)
    model.set_weights(other.get_weights())  # copied into the same tensors: the graphs stay valid
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=BATCH, verbose=0),
                               other.evaluate(x, y, batch_size=BATCH, verbose=0), rtol=1e-5)
    graphs_before = len(makers[0].graphs)
    with torch.no_grad():
        for parameter in model.parameters():  # new memory: recorded graphs would read the old one
            parameter.data = parameter.data.clone() * 0
    model.evaluate(x, y, batch_size=BATCH, verbose=0)
    assert len(makers[0].graphs) == graphs_before + 1
    np.testing.assert_allclose(model.predict(x, verbose=0), np.full((SAMPLES, 3), 1 / 3), rtol=1e-6)


class _HostRead(layers.Layer):
    """A layer with host-side Python in call: it reads a value back (cannot be recorded)."""

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        if shapes.is_shape_inference((inputs,)):
            return inputs
        return inputs * (1.0 if float(inputs.abs().max()) < 1e6 else 0.0)


def test_a_step_that_reads_values_back_falls_back_to_eager_with_one_notice(makers):
    x, y = _data()
    eager = _classifier(False, extra_layers=[_HostRead()])
    graphed = _classifier("auto", extra_layers=[_HostRead()])
    eager_history = _fit(eager, x, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graphed_history = _fit(graphed, x, y)
    notices = [w for w in caught if "CUDA graphs" in str(w.message)]
    assert len(notices) == 1 and "runs eagerly" in str(notices[0].message)
    _assert_same_training(eager, graphed, eager_history, graphed_history)


@pytest.mark.parametrize("optimizer", ["rmsprop", optimizers.Adadelta(1.0), optimizers.Nadam(0.01, clipvalue=0.1)])
def test_optimizers_without_a_fused_update_run_it_after_each_replay(makers, optimizer):
    x, y = _data()
    copy = optimizers.get(optimizers.serialize(optimizers.get(optimizer)))
    eager, graphed = _classifier(False, copy), _classifier("auto", optimizer)
    _assert_same_training(eager, graphed, _fit(eager, x, y), _fit(graphed, x, y))
    step = graphed.make_step()
    assert step.kind == "graphed" and _replays(makers) > 0 and not step.update_in_graph


def test_the_emulator_freezes_python_values_and_refuses_host_reads():
    """The emulator's own promise: replay does not rerun Python, and reads back are refused."""
    weight, scale = torch.ones(2), {"value": 2.0}
    graph = EmulatedGraph()
    output = graph.capture(lambda: weight * scale["value"])
    assert torch.isnan(output).all()  # nothing ran yet
    scale["value"] = 5.0
    weight.fill_(3.0)
    graph.replay()
    assert output.tolist() == [6.0, 6.0]  # the new weight, the old Python number
    with pytest.raises(RuntimeError, match="capturing"):
        EmulatedGraph().capture(lambda: weight.sum().item())


def test_sample_weights_and_bfloat16_autocast_are_recorded_too(makers):
    x, y = _data()
    weights = np.linspace(0.5, 1.5, SAMPLES).astype("float32")
    eager, graphed = _classifier(False), _classifier("auto")
    _assert_same_training(eager, graphed, _fit(eager, x, y, sample_weight=weights),
                          _fit(graphed, x, y, sample_weight=weights))
    eager, graphed = _classifier(False, precision="mixed_bfloat16"), _classifier("auto", precision="mixed_bfloat16")
    _assert_same_training(eager, graphed, _fit(eager, x, y), _fit(graphed, x, y))
    for _ in range(2):  # the second time every batch replays
        np.testing.assert_allclose(graphed.evaluate(x, y, verbose=0), eager.evaluate(x, y, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(graphed.predict(x, verbose=0), eager.predict(x, verbose=0), rtol=1e-6)
    assert _replays(makers) > 30


@pytest.mark.parametrize("mask_zero", [False, True])
def test_recurrent_models_and_padding_masks_train_the_same(makers, mask_zero):
    rng = np.random.default_rng(2)
    tokens = rng.integers(1, 20, size=(SAMPLES, 7))
    tokens[:, 5:] = 0  # padding at the end
    targets = (tokens % 3).astype("int64")
    histories = []
    for jit_compile in (False, "auto"):
        ember.utils.set_random_seed(3)
        model = ember.Sequential([layers.Input((7,), dtype="int64"), layers.Embedding(20, 4, mask_zero=mask_zero),
                                  layers.LSTM(8, return_sequences=True), layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=jit_compile)
        # oneDNN's CPU LSTM keeps state outside its outputs' values, which the emulator cannot copy
        with warnings.catch_warnings(record=True) as caught, torch.backends.mkldnn.flags(enabled=False):
            warnings.simplefilter("always")
            histories.append(_fit(model, tokens, targets))
    for key in histories[0]:
        np.testing.assert_allclose(histories[1][key], histories[0][key], rtol=1e-5, err_msg=key)
    assert not [w for w in caught if "CUDA graphs" in str(w.message)] and _replays(makers) > 0


def test_each_phase_keeps_at_most_two_recorded_batch_shapes_and_fit_keeps_its_own(makers):
    x, y = _data()
    model = _classifier("auto")
    _fit(model, x, y, epochs=1)
    for batch_size in (10, 20, 30, 40):
        model.predict(x, batch_size=batch_size, verbose=0)
    recorded = model.make_step().graphs.recorded_signatures()
    assert sorted(phase for phase, _ in recorded) == ["predict", "predict", "train"]
    assert {signature[0][0][0] for phase, signature in recorded if phase == "predict"} == {30, 40}
    graphs_made = sum(len(maker.graphs) for maker in makers)
    _fit(model, x, y, epochs=1)  # predict did not cost the recorded train step
    assert sum(len(maker.graphs) for maker in makers) == graphs_made


def test_a_graphed_model_saves_and_reloads_its_optimizer_state(makers, tmp_path):
    x, y = _data()
    model = _classifier("auto", optimizers.Adam(0.01))
    _fit(model, x, y, epochs=1)
    model.optimizer.learning_rate = 0.005  # fills the recorded step's learning-rate tensor
    model.save(tmp_path / "graphed.ember")
    loaded = ember.load_model(tmp_path / "graphed.ember")
    assert loaded.optimizer.learning_rate == 0.005 and loaded.optimizer.iterations == model.optimizer.iterations
    state = model.optimizer.state_dict()
    assert all(isinstance(group["lr"], float) for group in state["torch"]["param_groups"])
    model.optimizer.load_state_dict(state)  # keeps the tensor the recorded step reads
    assert all(group["lr"] is model.optimizer.learning_rate_tensor for group in model.optimizer.torch_optimizer.param_groups)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    _assert_same_training(loaded, model, _fit(loaded, x, y, epochs=1), _fit(model, x, y, epochs=1))


def test_float16_loss_scaling_records_the_scaled_backward_and_updates_after_the_replay(makers):
    x, y = _data()
    eager, graphed = _classifier(False, precision="mixed_float16"), _classifier("auto", precision="mixed_float16")
    eager_history, graphed_history = _fit(eager, x, y), _fit(graphed, x, y)
    _assert_same_training(eager, graphed, eager_history, graphed_history)
    step = graphed.make_step()
    assert _replays(makers) > 0 and step.scaler is not None and not step.update_in_graph


def test_the_cuda_graph_maker_warms_up_on_a_side_stream_and_records_with_torch_cuda_graph(monkeypatch):
    """The CUDA-only wrappers, against stand-ins for torch.cuda (CI has no GPU)."""
    events = []

    class Stream:
        def __init__(self, name="side"):
            self.name = name

        def wait_stream(self, other):
            events.append(f"{self.name} waits for {other.name}")

    class StreamContext:
        def __init__(self, stream):
            self.stream = stream

        def __enter__(self):
            events.append(f"on {self.stream.name}")

        def __exit__(self, *exc):
            events.append(f"off {self.stream.name}")

    class Graph:
        def replay(self):
            events.append("replay")

    class GraphContext:
        def __init__(self, graph):
            self.graph = graph

        def __enter__(self):
            events.append("capture begins")

        def __exit__(self, *exc):
            events.append("capture ends")

    main = Stream("main")
    monkeypatch.setattr(torch.cuda, "Stream", Stream)
    monkeypatch.setattr(torch.cuda, "current_stream", lambda: main)
    monkeypatch.setattr(torch.cuda, "stream", StreamContext)
    monkeypatch.setattr(torch.cuda, "CUDAGraph", Graph)
    monkeypatch.setattr(torch.cuda, "graph", GraphContext)
    maker = graphs.CudaGraphMaker()
    with maker.warmup():
        events.append("eager step")
    with pytest.raises(ValueError), maker.warmup():
        raise ValueError("a failing warm-up step")
    assert events == ["side waits for main", "on side", "eager step", "off side", "main waits for side"] + \
        ["side waits for main", "on side", "off side", "main waits for side"]
    events.clear()
    graph = maker.new()
    assert graph.capture(lambda: events.append("step") or "outputs") == "outputs"
    graph.replay()
    assert events == ["capture begins", "step", "capture ends", "replay"]
    assert graphs.maker_for(torch.device("cpu")) is None
