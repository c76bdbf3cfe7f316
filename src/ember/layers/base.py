"""The Layer lifecycle: Keras-style construction, lazy `build` from the first input, weights.

A layer is a `torch.nn.Module`. `__init__` stores the constructor arguments; `build(input_shape)`
creates the weights once, from the first input seen (or from `input_shape=`/`Input(...)`);
`forward` computes. Once built, a layer is a plain module. Keras-style subclasses that define
`build` and `call` work too.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np
import torch
from torch.distributed.tensor import DTensor
from torch import nn

from ember import _dtypes, config, constraints, initializers, regularizers
from ember.variables import Variable, as_variable, new_variable
from ember._naming import to_snake_case, unique_name
from ember._tree import first_leaf, flatten, map_structure
from ember import registry
from ember.layers import shapes
from ember.layers.symbolic import is_symbolic, symbolic_call

Shape = tuple[int | None, ...]


class Layer(nn.Module):
    """Base class of ember layers (and of models).

    Args:
        name: unique name; derived from the class name when omitted (`dense`, `dense_1`, ...).
        trainable: whether the layer's weights are updated by training.
        input_shape: shape of one sample (no batch axis), for the first layer of a model.
        input_dim: shorthand for `input_shape=(input_dim,)`.
        activity_regularizer: penalty on the layer's output, added to the training loss.
    """

    def __init__(self, *, name: str | None = None, trainable: bool = True, dtype: Any = None,
                 input_shape: tuple[int | None, ...] | None = None, input_dim: int | None = None,
                 batch_size: int | None = None, activity_regularizer: Any = None, **kwargs: Any) -> None:
        super().__init__()
        batch_input_shape = kwargs.pop("batch_input_shape", None)  # Keras 2 spelling
        if batch_input_shape is not None:
            batch_size, input_shape = batch_input_shape[0], tuple(batch_input_shape[1:])
        if kwargs:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword arguments {sorted(kwargs)}.")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.built = False
        self._trainable = bool(trainable)
        self._dtype_policy = dtype
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._declared_input_shape = _declared_shape(input_shape, input_dim, batch_size)
        self._own_weights: list[str] = []  # in creation order, as Keras lists them
        self._weight_regularizers: list[tuple[str, regularizers.Regularizer]] = []
        self._weight_constraints: list[tuple[str, constraints.Constraint]] = []
        self._initializers: dict[str, Any] = {}
        self._layouts: dict[str, Layout] = {}
        self._call_losses: list[torch.Tensor] = []
        self._inbound_nodes: list[Any] = []  # the symbolic calls (functional graph nodes) of this layer
        self.input_spec_shape: Shape | list | None = None
        self.build_arguments: tuple = ()
        self.output_spec_shape: Shape | list | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__ and not getattr(cls.__dict__["build"], "_marks_built", False):
            cls.build = _marking_built(cls.__dict__["build"])  # `layer.build(shape)` called directly, as Keras
        if "_saved_as" not in cls.__dict__:  # a dynamic subclass (Model.__new__, FSDP) is saved as its base
            registry.register(cls)  # so that a saved config can name it (see ember.registry)

    # A layer that keeps the time axis passes a padding mask on (Keras's supports_masking);
    # Embedding(mask_zero=True) and Masking create one.
    supports_masking = False
    creates_mask = False
    # Whether the layer treats each time step on its own, or keeps a key/value cache for the steps
    # before, so that `model.generate` can feed it one new token at a time (`ember.generation`).
    stepwise_decoding = False

    # ----------------------------------------------------------------- lifecycle
    def build(self, input_shape: Any) -> None:
        """Creates the weights from the input shape (batch axis first, None when unknown)."""

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """Keras-style computation; ember's own layers override `forward` instead."""
        raise NotImplementedError(f"{type(self).__name__} must define call() or forward().")

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if _accepts_training(type(self).call) and "training" not in kwargs:
            kwargs["training"] = self.training
        return self.call(*args, **kwargs)

    def __call__(self, *args: Any, training: bool | None = None, **kwargs: Any) -> Any:
        if self.built and args and type(args[0]) is torch.Tensor:  # the per-step path: nothing to decide
            if training is not None and training != self.training:
                with _mode(self, training):
                    return self._call_and_track_losses(args, kwargs)
            return self._call_and_track_losses(args, kwargs)
        return self._call_first_time_or_symbolically(args, kwargs, training)

    def _call_first_time_or_symbolically(self, args: tuple, kwargs: dict, training: bool | None) -> Any:
        if first_leaf((args, kwargs), is_symbolic) is not None:
            return symbolic_call(self, args, dict(kwargs, **({} if training is None else {"training": training})))
        if first_leaf(args, lambda leaf: isinstance(leaf, np.ndarray)) is not None:
            args = map_structure(self._array_to_tensor, args)  # Keras layers take NumPy arrays too
        if not self.built:
            self._build_from_arguments(args)
        if shapes.is_shape_inference(args):  # masks flow through shape inference too (symbolic masks)
            mask, kwargs = self._incoming_mask(args, kwargs)
            outputs = shapes.call_for_shapes(self, args, kwargs)
            self._mask_outputs(args, mask, outputs)
            return outputs
        if training is not None and training != self.training:
            with _mode(self, training):
                return self._call_and_track_losses(args, kwargs)
        return self._call_and_track_losses(args, kwargs)

    def _array_to_tensor(self, value: Any) -> Any:
        """A NumPy argument as a tensor on the layer's device: integer ids (int64) for a layer that
        takes them (`integer_inputs`, e.g. Embedding, or a model whose input is integer), else floats."""
        if not isinstance(value, np.ndarray):
            return value
        parameter = next(iter(self.parameters()), None)
        tensor = torch.as_tensor(value, device=parameter.device if parameter is not None else config.get_device())
        float_types = self.input_float_types() if hasattr(self, "input_float_types") else True
        takes_integers = getattr(self, "integer_inputs", False) or float_types is False
        if takes_integers and not tensor.is_floating_point():
            return tensor.long()
        return tensor.to(config.float_dtype())

    def _incoming_mask(self, args: tuple, kwargs: dict) -> tuple[Any, dict]:
        """The padding mask the first input carries, passed on as `mask=` when `call` takes one."""
        mask = getattr(args[0], "_keras_mask", None) if args else None
        if mask is not None and "mask" not in kwargs and _accepts_mask(type(self)):
            kwargs = dict(kwargs, mask=mask)
        return mask, kwargs

    def _mask_outputs(self, args: tuple, mask: Any, outputs: Any) -> None:
        """Hangs the outputs' masks on them when this layer passes, makes or computes one."""
        if mask is not None or self.creates_mask or _computes_masks(type(self)):
            _attach_masks(outputs, self.compute_mask(args[0], mask))

    def _call_and_track_losses(self, args: tuple, kwargs: dict) -> Any:
        if self._call_losses:
            self._call_losses = []
        mask, kwargs = self._incoming_mask(args, kwargs)
        outputs = super().__call__(*args, **kwargs)
        self._mask_outputs(args, mask, outputs)
        if self.activity_regularizer is not None:
            for output in flatten(outputs):
                self._call_losses.append(self.activity_regularizer(output))
        return outputs

    def _build_from_arguments(self, args: tuple) -> None:
        tensor_args = [arg for arg in args if first_leaf(arg, _is_tensor_like) is not None]
        input_shapes = [map_structure(_batchless_shape, arg) for arg in tensor_args]
        device = getattr(first_leaf(args, _is_tensor_like), "device", None)
        self.build_from_shapes(*input_shapes, device=device)

    def build_from_shapes(self, *input_shapes: Any, device: torch.device | None = None) -> None:
        """Runs `build` once with Keras-style shapes (batch axis None), outside any shape-inference mode."""
        if self.built:
            return
        with shapes.real_tensors(), _default_device(device):
            if type(self).build is not Layer.build:  # the default build takes one shape and makes nothing
                self.build(*input_shapes) if input_shapes else self.build(None)
        self.mark_built(input_shapes)

    def mark_built(self, input_shapes: tuple) -> None:
        """Records that `build` ran for `input_shapes` (one shape, or list of shapes, per tensor argument)."""
        self.built = True
        self.build_arguments = input_shapes
        self.input_spec_shape = input_shapes[0] if len(input_shapes) == 1 else list(input_shapes)
        if not self._trainable:
            self.trainable = False

    def get_build_config(self) -> dict[str, Any] | None:
        """Keras 3's build config: the input shape(s) the layer was built for, as JSON values (None
        when not built); `build_from_config` builds a new layer the same way."""
        if not self.built or not self.build_arguments:
            return None
        shapes_list = shapes.shape_to_json(list(self.build_arguments))
        return {"input_shape": shapes_list[0]} if len(shapes_list) == 1 else {"input_shapes": shapes_list}

    def build_from_config(self, config: dict[str, Any] | None) -> None:
        """Builds the weights from `get_build_config()`'s output."""
        if not config:
            return
        if "input_shape" not in config and "input_shapes" not in config:
            raise ValueError(f"Layer '{self.name}': a build config has 'input_shape' or 'input_shapes'; got "
                             f"{sorted(config)}.")
        given = [config["input_shape"]] if "input_shape" in config else config["input_shapes"]
        self.build_from_shapes(*[shapes.shape_from_json(shape) for shape in given])

    def compute_mask(self, inputs: Any, mask: torch.Tensor | None = None) -> Any:
        """The padding mask of the output, `(batch, steps)` booleans (one per output when there are
        several), or None. Layers that set `supports_masking = True` pass the input's on."""
        return mask if self.supports_masking else None

    def check_input_values(self, inputs: torch.Tensor) -> None:
        """Checks data entering the model through this layer, once per fit/evaluate/predict call
        (Embedding checks its token ids here). Nothing by default."""

    # ------------------------------------------------------------------- weights
    def add_weight(self, name_or_shape: Any = None, shape: Any = None, initializer: Any = None,
                   dtype: Any = None, trainable: bool = True, regularizer: Any = None,
                   constraint: Any = None, name: str | None = None, layout: "Layout | None" = None) -> torch.Tensor:
        """Creates, registers and returns a weight: an `ember.variables.Variable` (a Parameter with
        Keras's `assign`/`assign_add`/`value`/`numpy()`), registered as a buffer when not trainable.

        Accepts both Keras 3's `add_weight(shape=..., initializer=..., name=...)` and
        Keras 2's `add_weight(name, shape, ...)`. With a `layout`, `shape` and the initializer are
        in Keras's form and the weight is stored in `layout.from_keras` form (e.g. transposed).
        """
        if isinstance(name_or_shape, str):
            name = name_or_shape
        elif name_or_shape is not None:
            shape = name_or_shape
        shape = (shape,) if isinstance(shape, int) else tuple(shape or ())
        if any(dim is None or int(dim) < 0 for dim in shape):
            raise ValueError(f"Layer '{self.name}': weight {name!r} needs a fully known shape; got {shape}. "
                             "Unknown dimensions must be resolved in build() from the input shape.")
        name = _attribute_name(name or f"weight_{len(self._own_weights)}")
        init = initializers.get(initializer if initializer is not None else
                                ("glorot_uniform" if len(shape) >= 2 else "zeros"))
        value = init(tuple(int(d) for d in shape), _dtypes.to_torch(dtype, default=config.float_dtype()))
        value = (layout.from_keras(value).contiguous() if layout else value).to(_DEVICE.current)
        if layout is not None:
            self._layouts[name] = layout
        variable = new_variable(value, trainable, name, f"{self.name}/{name}")
        if trainable:
            setattr(self, name, variable)
        else:
            self.register_buffer(name, variable)
        self._own_weights.append(name)
        self._initializers[name] = init
        regularizer = regularizers.get(regularizer)
        if regularizer is not None:
            self._weight_regularizers.append((name, regularizer))
        constraint = constraints.get(constraint)
        if constraint is not None:
            self._weight_constraints.append((name, constraint))
        return getattr(self, name)

    def add_variable(self, shape: Any = None, initializer: Any = None, dtype: torch.dtype | None = None,
                     trainable: bool = True, autocast: bool = True, regularizer: Any = None,
                     constraint: Any = None, name: str | None = None) -> torch.Tensor:
        """Keras 3's `add_variable`: the same as `add_weight(shape=..., ...)`."""
        return self.add_weight(shape=shape, initializer=initializer, dtype=dtype, trainable=trainable,
                               regularizer=regularizer, constraint=constraint, name=name)

    def __setattr__(self, name: str, value: Any) -> None:
        # `self.total = self.add_weight(..., trainable=False)` names a buffer the layer holds already:
        # keep it a buffer (an alias), rather than letting nn.Module register it again as a parameter.
        if isinstance(value, Variable) and not value.requires_grad and \
                any(buffer is value for buffer in self.__dict__.get("_buffers", {}).values()):
            object.__setattr__(self, name, value)
            return
        super().__setattr__(name, value)

    def _apply(self, fn: Any, recurse: bool = True) -> "Layer":
        # nn.Module replaces buffers by new tensors on .to()/.double(); keep each Variable buffer
        # the same object (aliases and user references stay valid), with the converted data.
        variables = {key: buffer for key, buffer in self._buffers.items() if isinstance(buffer, Variable)}
        super()._apply(fn, recurse)
        for key, variable in variables.items():
            converted = self._buffers[key]
            if converted is not variable:
                variable.data = converted.data if isinstance(converted, torch.Tensor) else converted
                self._buffers[key] = variable
        return self

    def reset_parameters(self) -> None:
        """Draws every own weight again from its initializer (allocation stays as it is)."""
        with torch.no_grad():
            for name, init in self._initializers.items():
                tensor, layout = getattr(self, name), self._layouts.get(name)
                if layout is None:
                    tensor.copy_(init(tuple(tensor.shape), tensor.dtype))
                else:
                    tensor.copy_(layout.from_keras(init(tuple(layout.to_keras(tensor).shape), tensor.dtype)))

    def weight_entries(self) -> list[tuple[torch.Tensor, "Layout | None"]]:
        """(weight, layout) pairs in Keras's order: own trainable, own non-trainable, then sublayers'.

        A layout converts between the stored (PyTorch) form and Keras's array form; None means
        they are the same.
        """
        own = [(getattr(self, n), self._layouts.get(n)) for n in self._own_weights]
        ordered = [e for n, e in zip(self._own_weights, own) if n in self._parameters] + \
            [e for n, e in zip(self._own_weights, own) if n not in self._parameters]
        seen = {id(w) for w, _ in ordered}
        for child in self.children():
            for weight, layout in _module_weight_entries(child):
                if id(weight) not in seen:
                    seen.add(id(weight))
                    ordered.append((weight, layout))
        return ordered

    @property
    def weights(self) -> list[torch.Tensor]:
        """All weights in Keras's order (see `weight_entries`); parameters of plain torch modules
        inside are given the Variable methods too (buffers of plain modules stay torch tensors)."""
        return [as_variable(weight) for weight, _ in self.weight_entries()]

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        return [w for w in self.weights if isinstance(w, nn.Parameter) and w.requires_grad]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        return [w for w in self.weights if not (isinstance(w, nn.Parameter) and w.requires_grad)]

    @property
    def variables(self) -> list[torch.Tensor]:
        """Keras's `layer.variables`: the weights (ember keeps metric state and seeds elsewhere)."""
        return self.weights

    @property
    def trainable_variables(self) -> list[torch.Tensor]:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[torch.Tensor]:
        return self.non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        """The weights as NumPy arrays, in Keras's order and layouts."""
        return [(layout.to_keras(_full(w.detach())) if layout else _full(w.detach())).cpu().numpy().copy()
                for w, layout in self.weight_entries()]

    def set_weights(self, weights: list[Any]) -> None:
        """Loads arrays given in `get_weights()` order and layouts; counts and shapes must match."""
        entries = self.weight_entries()
        if len(weights) != len(entries):
            raise ValueError(f"Layer '{self.name}' has {len(entries)} weights; set_weights got {len(weights)} arrays.")
        with torch.no_grad():
            for index, ((target, layout), value) in enumerate(zip(entries, weights)):
                value = value.detach() if isinstance(value, torch.Tensor) else torch.from_numpy(np.array(value))
                expected = tuple(layout.to_keras(target).shape) if layout else tuple(target.shape)
                if tuple(value.shape) != expected:
                    raise ValueError(f"Layer '{self.name}': weight {index} has shape {expected}; "
                                     f"set_weights got shape {tuple(value.shape)}.")
                target.copy_((layout.from_keras(value) if layout else value).to(target.dtype))

    def count_params(self) -> int:
        """Number of scalars in all weights (trainable and not)."""
        if not self.built and not list(self.parameters()):
            raise ValueError(f"Layer '{self.name}' is not built yet, so it has no weights to count. "
                             "Call it on data or give the model an input shape first.")
        return sum(w.numel() for w in self.weights)

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for parameter in self.parameters():
            parameter.requires_grad_(self._trainable)
        for child in self.modules():
            if isinstance(child, Layer):
                child._trainable = self._trainable

    # -------------------------------------------------------------------- losses
    def add_loss(self, loss: torch.Tensor) -> None:
        """Adds a scalar to the training loss of the current call (Keras's `add_loss`)."""
        self._call_losses.append(loss)

    @property
    def losses(self) -> list[torch.Tensor]:
        """Regularization penalties of this layer and its sublayers, plus losses added in the last call."""
        collected = []
        for module in self.modules():
            if isinstance(module, Layer):
                collected.extend(reg(getattr(module, name)) for name, reg in module._weight_regularizers)
                collected.extend(module._call_losses)
        return collected

    def apply_constraints(self) -> None:
        """Projects constrained weights of this layer and its sublayers (after an optimizer step)."""
        with torch.no_grad():
            for module in self.modules():
                if isinstance(module, Layer):
                    for name, constraint in module._weight_constraints:
                        weight = getattr(module, name)
                        weight.copy_(constraint(weight))

    # -------------------------------------------------------------------- config
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments as JSON values, so that `cls(**config)` rebuilds the layer."""
        config_dict: dict[str, Any] = {"name": self.name, "trainable": self._trainable}
        if self._declared_input_shape is not None:
            config_dict["input_shape"] = list(self._declared_input_shape[1:])
        if self.activity_regularizer is not None:
            config_dict["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config_dict

    @classmethod
    def from_config(cls, config_dict: dict[str, Any]) -> "Layer":
        return cls(**config_dict)

    @property
    def output(self) -> Any:
        """The symbolic output of the layer's one call in a functional graph (or a Sequential with an
        Input), for feature extraction: `Model(model.inputs, [layer.output for layer in model.layers])`."""
        outputs = self._only_node("output").outputs
        return outputs[0] if len(outputs) == 1 else list(outputs)

    @property
    def input(self) -> Any:
        """The symbolic input(s) of the layer's one call in a functional graph."""
        args = self._only_node("input").args
        return args[0] if len(args) == 1 else list(args)

    def _only_node(self, what: str) -> Any:
        if not self._inbound_nodes:
            raise ValueError(f"Layer '{self.name}' has not been called on a symbolic input, so it has no {what}. "
                             "Call it on ember.Input(...) (or give its Sequential an Input) first.")
        if len(self._inbound_nodes) > 1:
            raise ValueError(f"Layer '{self.name}' was called at {len(self._inbound_nodes)} places in functional "
                             f"graphs, so its {what} is ambiguous; use the tensor each call returned instead.")
        return self._inbound_nodes[0]

    @property
    def input_shape(self) -> Any:
        """The batch-first shape the layer was built for (Keras's `layer.input_shape`)."""
        return self.input_spec_shape

    @property
    def output_shape(self) -> Any:
        """The batch-first output shape, known once the layer has seen a shape (Keras's `output_shape`)."""
        return self.output_spec_shape

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The output shape for an input shape, found by running the layer on fake tensors."""
        return shapes.output_shape(self, input_shape)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def _marking_built(build: Any) -> Any:
    @functools.wraps(build)
    def build_and_mark(self: Layer, *input_shapes: Any, **kwargs: Any) -> Any:
        result = build(self, *input_shapes, **kwargs)
        if not self.built and input_shapes and input_shapes[0] is not None:
            self.mark_built(tuple(_as_shape(shape) for shape in input_shapes))
        return result

    build_and_mark._marks_built = True  # type: ignore[attr-defined]
    return build_and_mark


def _as_shape(shape: Any) -> Any:
    """A shape given to `build` directly (a tuple, list or torch.Size) as a tuple; lists of shapes stay lists."""
    if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (list, tuple)) for s in shape):
        return [_as_shape(s) for s in shape]
    return tuple(None if d is None else int(d) for d in shape) if isinstance(shape, (list, tuple, torch.Size)) else shape


class _DeviceSlot:
    """Where `add_weight` allocates while a layer is being built (the first input's device)."""

    current: torch.device | None = None


_DEVICE = _DeviceSlot()


class _default_device:
    def __init__(self, device: torch.device | None) -> None:
        self.device = device

    def __enter__(self) -> None:
        self.previous, _DEVICE.current = _DEVICE.current, self.device

    def __exit__(self, *exc: Any) -> None:
        _DEVICE.current = self.previous


class _mode:
    """Temporarily puts a module in training or inference mode."""

    def __init__(self, module: nn.Module, training: bool) -> None:
        self.module, self.training = module, training

    def __enter__(self) -> None:
        self.previous = self.module.training
        self.module.train(self.training)

    def __exit__(self, *exc: Any) -> None:
        self.module.train(self.previous)


@functools.lru_cache(maxsize=None)
def _accepts_training(function: Any) -> bool:
    try:
        return "training" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


@functools.lru_cache(maxsize=None)
def _accepts_mask(layer_class: type) -> bool:
    function = layer_class.forward if layer_class.forward is not Layer.forward else layer_class.call
    try:
        return "mask" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


@functools.lru_cache(maxsize=None)
def _computes_masks(layer_class: type) -> bool:
    """Whether the class defines its own `compute_mask` (Keras calls it on every call)."""
    return layer_class.compute_mask is not Layer.compute_mask


def _attach_masks(outputs: Any, masks: Any) -> None:
    """Hangs each output's mask on it as `_keras_mask` (read by the next layer, losses and metrics)."""
    if masks is None:
        return
    if isinstance(outputs, torch.Tensor):
        outputs._keras_mask = masks
    elif isinstance(outputs, (list, tuple)) and isinstance(masks, (list, tuple)):
        for output, mask in zip(outputs, masks):
            if isinstance(output, torch.Tensor) and mask is not None:
                output._keras_mask = mask


def _is_tensor_like(value: Any) -> bool:
    return isinstance(value, torch.Tensor) or hasattr(value, "shape") and hasattr(value, "dtype")


def _batchless_shape(value: Any) -> Any:
    if not _is_tensor_like(value):
        return value
    if isinstance(value, torch.Tensor) and shapes.is_shape_inference((value,)):
        return shapes.batchless(value)  # placeholder sizes of unknown dimensions become None
    shape = tuple(value.shape)
    return (None,) + tuple(shape[1:]) if shape else ()


def _declared_shape(input_shape: Any, input_dim: int | None, batch_size: int | None) -> Shape | None:
    if input_shape is None and input_dim is None:
        return None
    if input_shape is None:
        input_shape = (input_dim,)
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    return (batch_size,) + tuple(None if d is None else int(d) for d in input_shape)


def _full(weight: torch.Tensor) -> torch.Tensor:
    """A weight as one whole tensor: a sharded one (FSDP's DTensor) is gathered from every rank."""
    return weight.full_tensor() if isinstance(weight, DTensor) else weight


def _attribute_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"w_{cleaned}"


def _module_weight_entries(module: nn.Module) -> list[tuple[torch.Tensor, "Layout | None"]]:
    """A module's weights in Keras's order: ember layers by their own rule, plain modules depth first."""
    if isinstance(module, Layer):
        return module.weight_entries()
    own = [(w, None) for w in list(module.parameters(recurse=False)) + list(module.buffers(recurse=False))]
    return own + [entry for child in module.children() for entry in _module_weight_entries(child)]


class Layout:
    """How a stored weight relates to Keras's array: two functions, each the other's inverse."""

    def __init__(self, to_keras: Any, from_keras: Any) -> None:
        self.to_keras, self.from_keras = to_keras, from_keras


TRANSPOSED = Layout(lambda t: t.T, lambda t: t.T)  # Keras (in, out) <-> PyTorch (out, in)
