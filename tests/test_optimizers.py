import math

import numpy as np

import pytest
import torch

from ember import optimizers
from ember.optimizers import schedules


def quadratic_step(optimizer, start=1.0, steps=1):
    weight = torch.nn.Parameter(torch.tensor([start]))
    optimizer.build([weight])
    for _ in range(steps):
        optimizer.zero_grad()
        (weight ** 2).sum().backward()
        optimizer.step()
    return weight.item()


def test_keras_defaults():
    assert optimizers.get("sgd").learning_rate == 0.01
    assert optimizers.get("adam").epsilon == 1e-7 and optimizers.Adam().learning_rate == 0.001
    assert optimizers.AdamW().weight_decay == 0.004
    assert optimizers.RMSprop().rho == 0.9


def test_sgd_momentum_follows_keras_update():
    # Keras: v = m*v - lr*g; w += v. Two steps from w=1 on w²: g1=2, v1=-0.2, w=0.8; g2=1.6, v2=-0.34, w=0.46
    assert quadratic_step(optimizers.SGD(0.1, momentum=0.9), steps=2) == pytest.approx(0.46)


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamw", "adamax", "nadam"])
def test_every_optimizer_decreases_a_quadratic(name):
    optimizer = optimizers.get(name)
    optimizer.learning_rate = 0.05 if name != "adadelta" else 1.0
    assert abs(quadratic_step(optimizer, steps=20)) < 1.0


def test_clipnorm_clipvalue_and_global_clipnorm():
    assert quadratic_step(optimizers.SGD(1.0, clipnorm=0.5), start=10.0) == pytest.approx(9.5, abs=1e-4)
    assert quadratic_step(optimizers.SGD(1.0, clipvalue=0.1), start=10.0) == pytest.approx(9.9)
    assert quadratic_step(optimizers.SGD(1.0, global_clipnorm=1.0), start=10.0) == pytest.approx(9.0, abs=1e-4)


def test_decoupled_weight_decay_for_sgd():
    # w <- w * (1 - lr * wd) then the gradient step: 1 * (1 - 0.1*0.5) - 0.1 * 2 = 0.75
    assert quadratic_step(optimizers.SGD(0.1, weight_decay=0.5)) == pytest.approx(0.75)


def test_schedule_sets_the_rate_each_step():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    optimizer = optimizers.SGD(schedule)
    quadratic_step(optimizer, steps=3)
    assert optimizer.learning_rate == pytest.approx(0.1 * 0.5 ** 2) and optimizer.iterations == 3


def test_schedules_values():
    cosine = schedules.CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=5)
    assert cosine(0) == 0 and cosine(5) == pytest.approx(1.0) and cosine(10) == pytest.approx(0.5)
    assert cosine(15) == pytest.approx(0.0, abs=1e-9)
    piecewise = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [piecewise(s) for s in (0, 10, 11, 21)] == [1.0, 1.0, 0.5, 0.1]
    assert schedules.ExponentialDecay(1.0, 10, 0.5, staircase=True)(19) == 0.5
    assert math.isclose(schedules.deserialize(schedules.serialize(cosine))(7), cosine(7))


def test_keras2_lr_argument_and_bad_values():
    assert optimizers.Adam(lr=0.01).learning_rate == 0.01
    with pytest.raises(ValueError, match="learning_rate must be a non-negative number"):
        optimizers.Adam(learning_rate=-1)
    with pytest.raises(ValueError, match="at most one of clipnorm"):
        optimizers.SGD(clipnorm=1, clipvalue=1)


@pytest.mark.parametrize("name, arguments", [("Adam", {}), ("AdamW", {"weight_decay": 0.05})])
def test_direct_fused_adam_step_is_torchs_step_exactly(name, arguments, tmp_path):
    torch.manual_seed(0)
    weights = [torch.nn.Parameter(torch.randn(5, 3)), torch.nn.Parameter(torch.randn(3))]
    reference = [torch.nn.Parameter(w.detach().clone()) for w in weights]
    direct, plain = getattr(optimizers, name)(0.01, **arguments), getattr(optimizers, name)(0.01, **arguments)
    direct.build(weights)
    plain.build(reference)
    plain._direct_step = lambda gradients: False  # always torch.optim's own step
    for step in range(12):
        if step == 6:  # state reloaded mid-way: the direct path must pick up the new tensors
            direct.load_state_dict(direct.state_dict())
        gradients = [torch.randn_like(w) for w in weights]
        for w, r, g in zip(weights, reference, gradients):
            w.grad, r.grad = g.clone(), g.clone()
        if step == 9:  # no gradient for the bias: torch.optim's own step, which leaves its count alone
            weights[1].grad = reference[1].grad = None
        direct.step()
        plain.step()
    for w, r in zip(weights, reference):
        assert torch.equal(w.detach(), r.detach())
    steps = [float(direct.torch_optimizer.state[w]["step"]) for w in weights]
    assert steps == [12, 11] == [float(plain.torch_optimizer.state[r]["step"]) for r in reference]


def test_use_ema_keeps_a_moving_average_and_fit_ends_with_it(blobs, tmp_path):
    import numpy as np

    import ember
    from ember import layers

    weight = torch.nn.Parameter(torch.zeros(2))
    optimizer = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5)
    optimizer.build([weight])
    for _ in range(3):  # the weight goes 1, 2, 3; the average 1 (a copy at first), 1.5, 2.25
        weight.grad = -torch.ones(2)
        optimizer.step()
    assert torch.allclose(optimizer.average.averages[0], torch.full((2,), 2.25))
    optimizer.finalize_variable_values()
    assert torch.allclose(weight.detach(), torch.full((2,), 2.25))

    x, y = blobs
    model = ember.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizers.Adam(0.05, use_ema=True, ema_momentum=0.9), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    swap = ember.callbacks.SwapEMAWeights()
    model.fit(x, y, epochs=3, validation_data=(x, y), callbacks=[swap], verbose=0)
    averages = [a.clone() for a in model.optimizer.average.averages]
    assert all(torch.equal(p.detach(), a) for p, a in zip(model.parameters(), averages))  # fit ended on them
    model.save(tmp_path / "ema.ember")
    loaded = ember.models.load_model(tmp_path / "ema.ember")
    assert loaded.optimizer.use_ema and loaded.optimizer.ema_momentum == 0.9
    assert all(torch.equal(a, b) for a, b in zip(loaded.optimizer.average.averages, averages))
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    with pytest.raises(ValueError, match="use_ema=True"):
        plain = ember.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
        plain.compile("adam", "sparse_categorical_crossentropy")
        plain.fit(x, y, epochs=1, validation_data=(x, y), callbacks=[ember.callbacks.SwapEMAWeights()], verbose=0)


def test_an_optimizer_refuses_another_models_weights_and_takes_unfrozen_ones():
    import ember
    from ember import layers

    x, y = np.random.default_rng(0).normal(size=(16, 3)).astype("float32"), np.zeros((16, 1), "float32")
    optimizer = ember.optimizers.Adam(1e-2)
    first = ember.Sequential([layers.Input((3,)), layers.Dense(1)])
    first.compile(optimizer, loss="mse")
    first.fit(x, y, verbose=0)
    second = ember.Sequential([layers.Input((3,)), layers.Dense(1)])
    second.compile(optimizer, loss="mse")
    with pytest.raises(ValueError, match="built for the weights of another model"):
        second.fit(x, y, verbose=0)
    base = layers.Dense(4)
    model = ember.Sequential([layers.Input((3,)), base, layers.Dense(1)])
    base.trainable = False
    optimizer = ember.optimizers.SGD(0.1)
    model.compile(optimizer, loss="mse")
    model.fit(x, y + 1, verbose=0)
    base.trainable = True  # fine-tuning with the same optimizer object: the unfrozen kernel trains too
    before = base.get_weights()[0].copy()
    model.compile(optimizer, loss="mse")
    model.fit(x, y + 1, verbose=0)
    assert not np.allclose(base.get_weights()[0], before)


def test_a_gradient_hook_sees_and_changes_the_gradients_before_the_update_until_removed():
    weight = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    optimizer = optimizers.SGD(0.5, clipvalue=0.25)
    optimizer.build([weight])
    seen = []

    def hook(weights):
        seen.append(weights[0].grad.clone())
        weights[0].grad.mul_(-1.0)  # the update follows the changed gradient, clipped after the hook

    handle = optimizer.register_gradient_hook(hook)
    weight.grad = torch.tensor([0.1, 1.0])
    optimizer.step()
    torch.testing.assert_close(seen[0], torch.tensor([0.1, 1.0]))
    torch.testing.assert_close(weight.detach(), torch.tensor([1.05, 2.125]))  # -(-0.1), -(-0.25) * 0.5
    handle.remove()
    handle.remove()  # a second remove is harmless
    weight.grad = torch.tensor([0.1, 0.1])
    optimizer.step()
    assert len(seen) == 1 and not optimizer._gradient_hooks
    torch.testing.assert_close(weight.detach(), torch.tensor([1.0, 2.075]))
