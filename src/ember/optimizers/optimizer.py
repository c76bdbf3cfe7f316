"""Keras-style optimizers that drive `torch.optim` underneath.

An ember optimizer is created before the model has weights (`compile(optimizer=Adam(1e-3))`);
`build(parameters)` attaches it to them. Keras's extras live here, applied with foreach ops and
no host synchronisation: `clipnorm` (per tensor), `global_clipnorm`, `clipvalue`, decoupled
`weight_decay`, and learning-rate schedules evaluated from the step count.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, Callable, Iterable

import torch

from ember.optimizers import schedules
from ember.optimizers.averaging import WeightAverage


class GradientHookHandle:
    """What `Optimizer.register_gradient_hook` returns: `remove()` takes the hook off (once or more)."""

    def __init__(self, hooks: dict[int, Callable], key: int) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)


class Optimizer:
    """Base class. Subclasses set `torch_class` and map their Keras arguments in `torch_arguments()`."""

    torch_class: type[torch.optim.Optimizer]

    def __init__(self, learning_rate: float | schedules.LearningRateSchedule = 0.001,
                 weight_decay: float | None = None, clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        if "lr" in kwargs:  # Keras 2 spelling, still in many tutorials
            learning_rate = kwargs.pop("lr")
        if "decay" in kwargs:
            kwargs.pop("decay")
            warnings.warn("The Keras 2 'decay' argument is ignored; use a learning-rate schedule such as "
                          "ember.optimizers.schedules.InverseTimeDecay.", stacklevel=3)
        if kwargs:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword arguments {sorted(kwargs)}.")
        if sum(v is not None for v in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Pass at most one of clipnorm, clipvalue and global_clipnorm.")
        if not isinstance(learning_rate, schedules.LearningRateSchedule) and not callable(learning_rate) and (
                not isinstance(learning_rate, (int, float)) or learning_rate < 0):
            raise ValueError(f"{type(self).__name__}: learning_rate must be a non-negative number or a "
                             f"schedule; got {learning_rate!r}.")
        self.name = name or type(self).__name__.lower()
        self._schedule = learning_rate if callable(learning_rate) else None
        self._learning_rate = float(learning_rate(0) if callable(learning_rate) else learning_rate)
        self.weight_decay, self.clipnorm, self.clipvalue = weight_decay, clipnorm, clipvalue
        self.global_clipnorm = global_clipnorm
        if not 0.0 <= ema_momentum < 1.0:
            raise ValueError(f"{type(self).__name__}: ema_momentum must be in [0, 1); got {ema_momentum}.")
        if ema_overwrite_frequency is not None and (not isinstance(ema_overwrite_frequency, int)
                                                    or ema_overwrite_frequency < 1):
            raise ValueError(f"{type(self).__name__}: ema_overwrite_frequency must be a positive integer or None; "
                             f"got {ema_overwrite_frequency!r}.")
        self.use_ema, self.ema_momentum = bool(use_ema), float(ema_momentum)
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.average: WeightAverage | None = None
        self.iterations = 0
        self.torch_optimizer: torch.optim.Optimizer | None = None
        self._rate_tensor: torch.Tensor | None = None
        self._parameters: list[torch.nn.Parameter] = []
        self._gradient_hooks: dict[int, Callable[[list[torch.nn.Parameter]], None]] = {}

    def torch_arguments(self) -> dict[str, Any]:
        """Keyword arguments for `torch_class`, besides the parameters and the learning rate."""
        return {}

    def decouples_weight_decay(self) -> bool:
        """Whether `weight_decay` is applied here (True) or by the torch optimizer itself."""
        return True

    # ------------------------------------------------------------------ lifecycle
    def build(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        """Attaches the optimizer to the trainable parameters, once: later calls add the weights a
        model unfroze since, and refuse another model's weights (which the optimizer would leave
        untrained). With none (a model without weights, or all frozen), steps only count, as in Keras."""
        if self.torch_optimizer is not None:
            self._add_unfrozen([p for p in parameters if p.requires_grad])
            return
        self._parameters = [p for p in parameters if p.requires_grad]
        if not self._parameters:
            return
        if self.use_ema:
            self.average = WeightAverage(self._parameters, self.ema_momentum)
        arguments = self.torch_arguments()
        if _supports_fused(self.torch_class, self._parameters):
            try:  # one fused kernel per step: on the CPU a third of the for-loop version's time
                self.torch_optimizer = self.torch_class(self._parameters, lr=self._learning_rate, fused=True,
                                                        **arguments)
                return
            except (RuntimeError, ValueError, TypeError):
                pass
        self.torch_optimizer = self.torch_class(self._parameters, lr=self._learning_rate, **arguments)

    def _add_unfrozen(self, parameters: list[torch.nn.Parameter]) -> None:
        known = {id(p) for p in self._parameters}
        extra = [p for p in parameters if id(p) not in known]
        if not extra:
            return
        if len(extra) == len(parameters):
            raise ValueError(f"This {type(self).__name__} was built for the weights of another model: none of these "
                             f"{len(parameters)} weights is among its {len(self._parameters)}, so it would not train "
                             "them. Give each model its own optimizer object (e.g. compile(optimizer='adam') or a new "
                             "ember.optimizers.Adam(...)).")
        if self.average is not None:
            raise ValueError("Weights were unfrozen after this optimizer (use_ema=True) was built; compile with a new "
                             "optimizer object to train them.")
        self.torch_optimizer.add_param_group({"params": extra})
        self._parameters = self._parameters + extra

    @property
    def built(self) -> bool:
        return self.torch_optimizer is not None

    def zero_grad(self) -> None:
        for parameter in self._parameters:  # torch's zero_grad costs more here (a dynamo-guarded wrapper)
            parameter.grad = None

    def step(self, loss_scaler: torch.amp.GradScaler | None = None) -> None:
        """Clips gradients, decays weights, applies the schedule and takes one optimizer step.
        With a `loss_scaler` (float16 training) the gradients are unscaled first, and a step whose
        gradients overflowed is skipped."""
        self.begin_step()
        self.update_weights(loss_scaler)
        self.end_step()

    def apply(self, grads: Iterable[torch.Tensor | None],
              trainable_variables: Iterable[torch.nn.Parameter] | None = None) -> None:
        """Keras 3's `optimizer.apply(grads, trainable_variables)`: one step from the given gradients
        (a custom training loop or `train_step`). Builds on `trainable_variables` the first time;
        later they must be among the weights it was built on (the same order is not needed)."""
        variables = list(trainable_variables) if trainable_variables is not None else list(self._parameters)
        grads = list(grads)
        if len(grads) != len(variables):
            raise ValueError(f"optimizer.apply got {len(grads)} gradients for {len(variables)} variables; give one "
                             "gradient (or None) per variable, in the same order.")
        if not self.built:
            self.build(variables)
        known = {id(p) for p in self._parameters}
        foreign = [tuple(v.shape) for v in variables if id(v) not in known and v.requires_grad]
        if foreign:
            raise ValueError(f"optimizer.apply got variables of shapes {foreign[:3]} that this optimizer was not built "
                             "on; an optimizer serves one set of weights (make one per model or network).")
        given = {id(v) for v in variables}
        for parameter in self._parameters:  # the weights not given are left alone this step
            if id(parameter) not in given:
                parameter.grad = None
        for variable, gradient in zip(variables, grads):
            variable.grad = gradient
        self.step()

    def apply_gradients(self, grads_and_vars: Iterable[tuple[torch.Tensor | None, torch.nn.Parameter]]) -> None:
        """Keras's `apply_gradients([(grad, variable), ...])`: `apply` with the pairs split."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def begin_step(self) -> None:
        """The host's part before the update: the schedule's learning rate for this step."""
        if self._schedule is not None:
            self.learning_rate = self._schedule(self.iterations)

    def update_weights(self, loss_scaler: torch.amp.GradScaler | None = None) -> None:
        """The device's part of a step: clipping, weight decay and the update, from the weights'
        gradients. Without a `loss_scaler` and with `use_tensor_learning_rate()` it reads no Python
        state that changes between steps, so a CUDA graph can record it."""
        if self.torch_optimizer is None:  # built on no trainable weights: nothing to update
            return
        if loss_scaler is not None:
            loss_scaler.unscale_(self.torch_optimizer)
        for hook in list(self._gradient_hooks.values()):
            hook(self._parameters)
        gradients = [p.grad for p in self._parameters if p.grad is not None]
        if gradients:
            self._clip(gradients)
            if self.weight_decay and self.decouples_weight_decay():
                with torch.no_grad():
                    decayed = [p for p in self._parameters if p.grad is not None]
                    torch._foreach_mul_(decayed, 1.0 - self._rate() * self.weight_decay)
        if loss_scaler is not None:
            loss_scaler.step(self.torch_optimizer)
            loss_scaler.update()
        elif not self._direct_step(gradients):
            self.torch_optimizer.step()

    def register_gradient_hook(self, hook: Callable[[list[torch.nn.Parameter]], None]) -> GradientHookHandle:
        """Calls `hook(weights)` at every update, after the gradients are in the weights' `.grad`
        (unscaled under float16) and before clipping, weight decay and the step: the hook may read
        them and change them in place (e.g. add a penalty's derivative, or project them).
        Returns a handle whose `remove()` takes the hook off. An optimizer with hooks is not
        recorded in CUDA graphs (the hook is Python that runs every step)."""
        key = max(self._gradient_hooks, default=-1) + 1
        self._gradient_hooks[key] = hook
        return GradientHookHandle(self._gradient_hooks, key)

    def end_step(self) -> None:
        """The host's part after the update: the weight average and the step count."""
        if self.average is not None:
            self.average.update(first_step=self.iterations == 0)
            if self.ema_overwrite_frequency and (self.iterations + 1) % self.ema_overwrite_frequency == 0:
                self.average.copy_to_weights()
        self.iterations += 1

    # ----------------------------------------------------------- CUDA graphs
    def supports_graphs(self) -> bool:
        """Whether `update_weights` can be recorded in a CUDA graph: torch's fused kernel (Adam,
        AdamW, SGD; Adagrad on the CPU) with one parameter group. Other optimizers run eagerly."""
        optimizer = self.torch_optimizer
        return (optimizer is not None and bool(optimizer.defaults.get("fused")) and len(optimizer.param_groups) == 1
                and not self._gradient_hooks)

    @property
    def learning_rate_tensor(self) -> torch.Tensor | None:
        """The one-element tensor the update reads the learning rate from, after
        `use_tensor_learning_rate()`; None before."""
        return self._rate_tensor

    def use_tensor_learning_rate(self) -> None:
        """Keeps the learning rate in a one-element tensor on the weights' device, which the update
        reads (a recorded graph sees later changes); setting `learning_rate` fills it in place."""
        if self._rate_tensor is not None:
            return
        self._rate_tensor = torch.tensor(self._learning_rate, dtype=torch.float32, device=self._parameters[0].device)
        for group in self.torch_optimizer.param_groups:
            group["lr"] = self._rate_tensor
            if "capturable" in group:  # torch checks the flag when step() runs inside a capture
                group["capturable"] = True

    def _rate(self) -> float | torch.Tensor:
        return self._learning_rate if self._rate_tensor is None else self._rate_tensor

    def finalize_variable_values(self, variables: Any = None) -> None:
        """At the end of training (`fit` calls it): with `use_ema`, the weights become their averages."""
        if self.average is not None:
            self.average.copy_to_weights()

    def _direct_step(self, gradients: list[torch.Tensor]) -> bool:
        """Takes the step by calling the optimizer's fused kernel directly, skipping torch.optim's
        per-step bookkeeping, where a subclass knows how; False means: use `torch_optimizer.step()`.
        `gradients` are those of the weights that have one."""
        return False

    def _clip(self, gradients: list[torch.Tensor]) -> None:
        if self.global_clipnorm is not None:
            torch.nn.utils.clip_grad_norm_(self._parameters, self.global_clipnorm, foreach=True)
        elif self.clipnorm is not None:
            norms = torch._foreach_norm(gradients)
            scales = [torch.clamp(self.clipnorm / (norm + 1e-6), max=1.0) for norm in norms]
            torch._foreach_mul_(gradients, scales)
        elif self.clipvalue is not None:
            torch._foreach_clamp_min_(gradients, -self.clipvalue)
            torch._foreach_clamp_max_(gradients, self.clipvalue)

    # -------------------------------------------------------------- learning rate
    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        value = float(value)
        if self._rate_tensor is not None:  # the groups hold the tensor: fill it (a kernel only on a change)
            if value != self._learning_rate:
                self._rate_tensor.fill_(value)
        elif self.torch_optimizer is not None:
            for group in self.torch_optimizer.param_groups:
                group["lr"] = value
        self._learning_rate = value

    lr = learning_rate  # Keras 2 alias

    # ---------------------------------------------------------------- persistence
    def get_config(self) -> dict[str, Any]:
        rate = schedules.serialize(self._schedule) if isinstance(self._schedule, schedules.LearningRateSchedule) \
            else self._learning_rate
        return {"name": self.name, "learning_rate": rate, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm,
                "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency}

    def state_dict(self) -> dict[str, Any]:
        torch_state = self.torch_optimizer.state_dict() if self.torch_optimizer is not None else None
        for group in torch_state["param_groups"] if torch_state else ():
            if isinstance(group["lr"], torch.Tensor):  # the tensor of use_tensor_learning_rate
                group["lr"] = self._learning_rate
        state = {"iterations": self.iterations, "learning_rate": self._learning_rate, "torch": torch_state}
        if self.average is not None:
            state["weight_averages"] = [a.clone() for a in self.average.averages]
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.iterations = int(state["iterations"])
        if state.get("torch") is not None and self.torch_optimizer is not None:
            self.torch_optimizer.load_state_dict(state["torch"])
            if self._rate_tensor is not None:
                for group in self.torch_optimizer.param_groups:
                    group["lr"] = self._rate_tensor
        self.learning_rate = state["learning_rate"]
        if self.average is not None and state.get("weight_averages") is not None:
            with torch.no_grad():
                torch._foreach_copy_(self.average.averages, [t.to(a.device) for t, a in
                                                             zip(state["weight_averages"], self.average.averages)])


def _supports_fused(torch_class: type, parameters: list[torch.nn.Parameter]) -> bool:
    """Whether torch offers a fused kernel for this optimizer on these parameters' device."""
    if "fused" not in inspect.signature(torch_class.__init__).parameters:
        return False
    devices = {p.device.type for p in parameters}
    return len(devices) == 1 and devices <= {"cpu", "cuda"} and all(p.is_floating_point() for p in parameters)


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum. Keras defaults: lr 0.01."""

    torch_class = torch.optim.SGD

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        if not 0 <= momentum < 1 and momentum != 0:
            raise ValueError(f"SGD: momentum must be in [0, 1); got {momentum}.")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def torch_arguments(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop: divides by a moving root-mean-square of gradients. Keras defaults: lr 0.001, rho 0.9."""

    torch_class = torch.optim.RMSprop

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0, epsilon: float = 1e-7,
                 centered: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def torch_arguments(self):
        return {"alpha": self.rho, "momentum": self.momentum, "eps": self.epsilon, "centered": self.centered}

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad: per-weight rates from accumulated squared gradients."""

    torch_class = torch.optim.Adagrad

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1, epsilon: float = 1e-7,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def torch_arguments(self):
        return {"initial_accumulator_value": self.initial_accumulator_value, "eps": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta: Adagrad with a moving window. Keras defaults: lr 0.001, rho 0.95."""

    torch_class = torch.optim.Adadelta

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.95, epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho, self.epsilon = rho, epsilon

    def torch_arguments(self):
        return {"rho": self.rho, "eps": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class _AdamFamily(Optimizer):
    """Shared arguments of Adam, AdamW, Adamax and Nadam."""

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        for argument, value in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= value < 1:
                raise ValueError(f"{type(self).__name__}: {argument} must be in [0, 1); got {value}.")
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def torch_arguments(self):
        return {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Adam(_AdamFamily):
    """Adam. Keras defaults: lr 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7."""

    torch_class = torch.optim.Adam
    _fused_kernel = getattr(torch, "_fused_adam_", None)
    _kernel_state: tuple[list, list, list, torch.Tensor] | None = None

    def _direct_step(self, gradients: list[torch.Tensor]) -> bool:
        """On small models torch.optim's bookkeeping costs as much as the fused update itself
        (about 25 µs a step on a CPU); once torch has created the state, call the kernel alone.
        The per-weight step counts become views of one tensor, so that one addition advances
        them all (torch's own `step` still sees, and advances, one count per weight)."""
        optimizer, parameters = self.torch_optimizer, self._parameters
        if self._fused_kernel is None or not optimizer.defaults.get("fused") or self.amsgrad \
                or len(gradients) != len(parameters) or len(optimizer.state) != len(parameters) \
                or len(optimizer.param_groups) != 1:
            return False
        cached = self._kernel_state
        if cached is None or cached[0][0] is not optimizer.state[parameters[0]]["exp_avg"]:
            states = [optimizer.state[p] for p in parameters]
            counts = torch.stack([s["step"] for s in states])
            for state, count in zip(states, counts.unbind()):
                state["step"] = count
            cached = self._kernel_state = ([s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states],
                                           [s["step"] for s in states], counts)
        decay = optimizer.defaults.get("weight_decay", 0.0)
        with torch.no_grad():
            cached[3].add_(1)
            type(self)._fused_kernel(parameters, gradients, cached[0], cached[1], [], cached[2],
                                     lr=self._rate(), beta1=self.beta_1, beta2=self.beta_2,
                                     weight_decay=decay, eps=self.epsilon, amsgrad=False, maximize=False)
        return True

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.amsgrad = bool(amsgrad)

    def torch_arguments(self):
        return {**super().torch_arguments(), "amsgrad": self.amsgrad}

    def get_config(self):
        return {**super().get_config(), "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras's default weight_decay 0.004)."""

    torch_class = torch.optim.AdamW
    _fused_kernel = getattr(torch, "_fused_adamw_", None)

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float = 0.004, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)

    def decouples_weight_decay(self) -> bool:
        return False

    def torch_arguments(self):
        return {**super().torch_arguments(), "weight_decay": self.weight_decay}


class Adamax(_AdamFamily):
    """Adamax: Adam with the infinity norm."""

    torch_class = torch.optim.Adamax


class Nadam(_AdamFamily):
    """Adam with Nesterov momentum."""

    torch_class = torch.optim.NAdam
