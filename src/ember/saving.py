"""The model file: a zip of JSON (architecture, compile settings) and safetensors (weights,
optimizer state). Loading reads data only: no pickle, no code from the file. What goes into the
JSON comes from the layers (`ember.layers.serialization`) and the model's compile config.

Layout of a saved model:
    config.json              {"format": "ember.model", "version": 1, "model": {...}, "compile": {...}}
    model.safetensors        the state_dict
    optimizer.json           optimizer class, config and non-tensor state
    optimizer.safetensors    optimizer tensors (moments, step counts)
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from ember import optimizers, registry
from ember.keras_objects import deserialize_keras_object, serialize_keras_object
from ember.layers.serialization import UnknownClassError, deserialize_layer, serialize_layer
from ember.registry import (custom_object_scope, get_custom_objects, get_registered_name, get_registered_object,
                            register_keras_serializable)

FORMAT, VERSION = "ember.model", 1
# JSON members that callers add next to the model's (training progress, a continual stream's state)
NOT_OPTIMIZER_DOCUMENTS = ("config.json", "progress.json", "continual.json")


class ModelFileError(ValueError):
    """A file is not a readable ember model (damaged, foreign, or from an incompatible version)."""


# ------------------------------------------------------------------------------ files
def save_model(model: Any, filepath: str | os.PathLike, overwrite: bool = True, include_optimizer: bool = True,
               state: dict[str, torch.Tensor] | None = None) -> None:
    """Writes `model` to one zip file (see the module docstring); `state` replaces the model's
    state_dict (a sharded model's, gathered whole)."""
    filepath = os.fspath(filepath)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it.")
    write_members(filepath, model_members(model, include_optimizer, state))


def model_members(model: Any, include_optimizer: bool = True,
                  state: dict[str, torch.Tensor] | None = None) -> dict[str, bytes]:
    """The files of a model file: config.json, model.safetensors and the optimizers' state."""
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built, so it has no weights to save. Give it an input shape "
                         "or train it first.")
    document = {"format": FORMAT, "version": VERSION, "model": serialize_layer(model),
                "compile": model.get_compile_config()}
    return {"config.json": json.dumps(document, indent=1).encode(),
            **training_state_members(model, include_optimizer, state)}


def training_state_members(model: Any, include_optimizer: bool = True,
                           state: dict[str, torch.Tensor] | None = None) -> dict[str, bytes]:
    """The weights (model.safetensors) and the optimizers' state of a model file, without its
    architecture: what `restore_training_state` reads back into the same model."""
    members = {"model.safetensors": save_safetensors(_contiguous(model.state_dict() if state is None else state))}
    for key, (optimizer, _) in model.optimizers_to_save().items() if include_optimizer else ():
        if optimizer is not None and optimizer.built:
            tensors, document = split_tensors(optimizer.state_dict(), "state")
            members[f"{key}.json"] = json.dumps({"class_name": type(optimizer).__name__.lower(),
                                                 "config": optimizer.get_config(), "state": document}).encode()
            members[f"{key}.safetensors"] = save_safetensors(tensors)
    return members


def write_members(filepath: str, members: dict[str, bytes]) -> None:
    """A zip of `members`, written to a temporary file and renamed: a crash mid-write never
    leaves a half-written file behind."""
    temporary = filepath + ".tmp"
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    os.replace(temporary, filepath)


def restore_training_state(model: Any, filepath: str | os.PathLike) -> dict[str, bytes]:
    """Loads a model file's weights and optimizer state into the compiled `model` (same
    architecture); returns the file's members, for callers that stored more in it."""
    filepath = os.fspath(filepath)
    members = _read_members(filepath)
    _load_state(model, _read_tensors(members, "model.safetensors", filepath), filepath)
    _load_optimizers(model, members, filepath)
    return members


def model_to_json(model: Any, **json_arguments: Any) -> str:
    """The architecture alone as a JSON string (`Model.to_json`); no weights, no compile settings.
    `json_arguments` go to `json.dumps` (e.g. `indent=2`)."""
    return json.dumps({"format": FORMAT, "version": VERSION, "model": serialize_layer(model)}, **json_arguments)


def model_from_json(json_string: str, custom_objects: dict[str, Any] | None = None, safe_mode: bool | None = None) -> Any:
    """A new model (fresh weights, not compiled) from `model.to_json()`'s output (Keras's name).
    `safe_mode=False` lets a Lambda's saved bytecode run (only for files you trust)."""
    try:
        document = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"model_from_json needs the JSON text of model.to_json(); it could not be read "
                             f"({error}).") from None
    spec = document.get("model", document) if isinstance(document, dict) else None
    if not isinstance(spec, dict) or "class_name" not in spec:
        raise ModelFileError("model_from_json needs the JSON text of model.to_json(); this JSON has no model in it.")
    try:
        with registry.safe_mode_scope(safe_mode):
            return deserialize_layer(spec, custom_objects)
    except UnknownClassError as error:
        raise ModelFileError(str(error)) from None


def load_model(filepath: str | os.PathLike, custom_objects: dict[str, Any] | None = None, compile: bool = True,  # noqa: A002
               safe_mode: bool | None = None) -> Any:
    """Rebuilds a model saved by `model.save`: architecture, weights, and (if saved) compile settings
    and optimizer state. Raises ModelFileError for damaged or foreign files. No code from the file
    runs, except a Lambda's saved bytecode when `safe_mode=False` (only for files you trust; None, the
    default, means True unless `ember.config.enable_unsafe_deserialization()` was called)."""
    filepath = os.fspath(filepath)
    members = _read_members(filepath)
    try:
        document = json.loads(members["config.json"])
    except (KeyError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{filepath}: config.json is missing or unreadable ({error}).") from None
    if document.get("format") != FORMAT:
        raise ModelFileError(f"{filepath} is not an ember model file (format {document.get('format')!r}).")
    if document.get("version", 0) > VERSION:
        raise ModelFileError(f"{filepath} was written by a newer ember (file version {document['version']}); "
                             "upgrade ember to read it.")
    with registry.custom_object_scope(custom_objects), registry.safe_mode_scope(safe_mode):
        return _rebuild(document, members, filepath, compile)


def _rebuild(document: dict, members: dict[str, bytes], filepath: str, compile: bool) -> Any:  # noqa: A002
    try:
        model = deserialize_layer(document["model"])
    except UnknownClassError as error:
        raise ModelFileError(f"{filepath}: {error}") from None
    _load_state(model, _read_tensors(members, "model.safetensors", filepath), filepath)
    compile_config = document.get("compile")
    if compile and compile_config:
        model.compile_from_config(compile_config, {key: optimizers.get(doc) for key, doc in _optimizer_documents(
            members).items()})
        _load_optimizers(model, members, filepath)
    return model


def _optimizer_documents(members: dict[str, bytes]) -> dict[str, dict]:
    return {name[:-len(".json")]: json.loads(members[name]) for name in members
            if name.endswith(".json") and name not in NOT_OPTIMIZER_DOCUMENTS}


def _load_optimizers(model: Any, members: dict[str, bytes], filepath: str) -> None:
    documents = _optimizer_documents(members)
    for key, (optimizer, parameters) in model.optimizers_to_save().items():
        if key in documents and optimizer is not None:
            optimizer.build(parameters)
            optimizer.load_state_dict(_join_optimizer_state(
                _read_tensors(members, f"{key}.safetensors", filepath), documents[key]["state"]))


def save_weights(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Writes the model's state_dict to a safetensors file."""
    filepath = os.fspath(filepath)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it.")
    with open(filepath, "wb") as file:
        file.write(save_safetensors(_contiguous(model.state_dict())))


def load_weights(model: Any, filepath: str | os.PathLike) -> None:
    """Loads weights from a safetensors file or from a saved model's zip file."""
    filepath = os.fspath(filepath)
    if zipfile.is_zipfile(filepath):
        members = _read_members(filepath)
        tensors = _read_tensors(members, "model.safetensors", filepath)
    else:
        with open(filepath, "rb") as file:
            data = file.read()
        try:
            tensors = load_safetensors(data)
        except Exception as error:
            raise ModelFileError(f"{filepath} is not a safetensors weights file ({error}).") from None
    _load_state(model, tensors, filepath)


def _read_members(filepath: str) -> dict[str, bytes]:
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No model file at {filepath}.")
    try:
        with zipfile.ZipFile(filepath) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ModelFileError(f"{filepath} is not an ember model file or is damaged ({error}). ember models are "
                             "zip files written by model.save().") from None


def _read_tensors(members: dict[str, bytes], name: str, filepath: str) -> dict[str, torch.Tensor]:
    if name not in members:
        raise ModelFileError(f"{filepath} has no {name}; the file is incomplete.")
    try:
        return load_safetensors(members[name])
    except Exception as error:
        raise ModelFileError(f"{filepath}: {name} is damaged ({error}).") from None


def _load_state(model: Any, tensors: dict[str, torch.Tensor], filepath: str) -> None:
    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    wrong = [f"{k}: file {tuple(tensors[k].shape)}, model {tuple(v.shape)}" for k, v in expected.items()
             if k in tensors and tuple(tensors[k].shape) != tuple(v.shape)]
    if missing or unexpected or wrong:
        raise ModelFileError(f"The weights in {filepath} do not fit model '{model.name}': missing {missing[:5]}, "
                             f"unexpected {unexpected[:5]}, shape mismatches {wrong[:5]}.")
    with torch.no_grad():
        for key, value in expected.items():
            value.copy_(tensors[key].to(value.dtype))


def _contiguous(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous().clone() for k, v in state.items()}


def split_tensors(value: Any, path: str) -> tuple[dict[str, torch.Tensor], Any]:
    """Tensors and NumPy arrays (for safetensors, keyed by their place in `value`) apart from the
    JSON-able rest, where each stands as {"__tensor__": key} or {"__array__": key}."""
    tensors: dict[str, torch.Tensor] = {}

    def strip(item: Any, where: str) -> Any:
        if isinstance(item, torch.Tensor):
            tensors[where] = item.detach().cpu().contiguous().clone()
            return {"__tensor__": where}
        if isinstance(item, np.ndarray):
            tensors[where] = torch.from_numpy(np.ascontiguousarray(item).copy())
            return {"__array__": where}
        if isinstance(item, np.generic):
            return item.item()
        if isinstance(item, dict):
            return {str(k): strip(v, f"{where}.{k}") for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [strip(v, f"{where}.{i}") for i, v in enumerate(item)]
        return item

    return tensors, strip(value, path)


def join_tensors(tensors: dict[str, torch.Tensor], document: Any) -> Any:
    """`split_tensors` undone: the tensors and arrays put back in their places."""
    def restore(item: Any) -> Any:
        if isinstance(item, dict) and "__tensor__" in item:
            return tensors[item["__tensor__"]]
        if isinstance(item, dict) and "__array__" in item:
            return tensors[item["__array__"]].numpy()
        if isinstance(item, dict):
            return {k: restore(v) for k, v in item.items()}
        if isinstance(item, list):
            return [restore(v) for v in item]
        return item

    return restore(document)


def _join_optimizer_state(tensors: dict[str, torch.Tensor], state: Any) -> Any:
    restored = join_tensors(tensors, state)
    torch_state = restored.get("torch")
    if torch_state is not None:  # JSON turned the integer parameter ids into strings
        torch_state["state"] = {int(k): v for k, v in torch_state["state"].items()}
    return restored


__all__ = ["save_model", "load_model", "save_weights", "load_weights", "model_to_json", "model_from_json",
           "ModelFileError", "register_keras_serializable", "get_custom_objects", "custom_object_scope",
           "get_registered_name", "get_registered_object", "serialize_keras_object", "deserialize_keras_object"]
