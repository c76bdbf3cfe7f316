"""Autoregressive generation for causal token models: `model.generate(prompt, max_new_tokens, ...)`.

A causal model maps token ids `(batch, steps)` to next-token scores `(batch, steps, vocabulary)`
(a softmax output is read through its logits). With the key/value cache each new token costs one
step through the model: causal self-attention keeps the keys and values of earlier steps
(`ember.layers.kv_cache`). Models the cache cannot serve (recurrent or convolutional layers,
attention without a causal mask) are re-run on the whole context for each token instead, which
gives the same tokens, only slower.

Context window: a model with a learned position table of `sequence_length` positions sees at most
that many tokens; when the context is full it restarts from its last `sequence_length // 2` tokens
(the same rule with or without the cache, so both give the same tokens).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ember.layers import kv_cache
from ember.layers.position import PositionEmbedding

_STEPWISE_MODULES = (nn.ModuleList, nn.Identity)  # plain torch containers that mix no steps


def cache_obstacle(model: nn.Module) -> str | None:
    """Why `model` cannot decode with the key/value cache (a layer that mixes steps), or None."""
    for module in model.modules():
        stepwise = getattr(module, "stepwise_decoding", False) or isinstance(module, _STEPWISE_MODULES)
        if module is not model and not stepwise:
            return f"layer '{getattr(module, 'name', type(module).__name__)}' ({type(module).__name__}) mixes steps"
    return None


def context_limit(model: nn.Module) -> int | None:
    """The most tokens the model can see at once: its smallest learned position table, if any."""
    limits = [m.sequence_length for m in model.modules() if isinstance(m, PositionEmbedding)]
    return min(limits) if limits else None


def generate(model: nn.Module, prompt: Any, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, seed: int | None = None, use_cache: bool = True) -> np.ndarray:
    """The prompt followed by `max_new_tokens` sampled tokens.

    Args:
        prompt: token ids, `(steps,)` or `(batch, steps)`.
        temperature: divides the logits; 0 picks the most likely token (greedy).
        top_k: sample among the k most likely tokens only. top_p: among the smallest set whose
            probability reaches p (nucleus sampling).
        seed: makes the sampling repeatable. use_cache: decode with the key/value cache when the model allows.
    Returns: int64 ids `(steps + max_new_tokens,)` or `(batch, steps + max_new_tokens)`, like the prompt.
    """
    tokens, single = _prompt_tokens(prompt)
    _check_sampling(max_new_tokens, temperature, top_k, top_p)
    if hasattr(model, "_place"):
        model._place()
    device = next(model.parameters()).device
    tokens = tokens.to(device)
    sampler = _Sampler(temperature, top_k, top_p, seed, device)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            result = None
            if use_cache and cache_obstacle(model) is None:
                result = _decode_with_cache(model, tokens, max_new_tokens, sampler)
            if result is None:  # the cache refused part way: start again without it
                sampler.reset()
                result = _decode_by_recomputing(model, tokens, max_new_tokens, sampler)
    finally:
        model.train(was_training)
    result = result.cpu().numpy()
    return result[0] if single else result


def _window_start(total: int, start: int, limit: int | None) -> int:
    """Where the model's context begins: unchanged until it would exceed `limit`, then the last half."""
    if limit is None or total - start <= limit:
        return start
    return total - max(1, limit // 2)


def _decode_with_cache(model: nn.Module, tokens: torch.Tensor, count: int, sampler: "_Sampler") -> Any:
    limit = context_limit(model)
    capacity = limit if limit is not None else tokens.shape[1] + count
    start = _window_start(tokens.shape[1], 0, limit)
    cache = kv_cache.DecodingCache(capacity)
    scores = _run(model, tokens[:, start:], cache)
    for index in range(count):
        if cache.unsupported:
            return None
        tokens = torch.cat([tokens, sampler(scores)], dim=1)
        if index == count - 1:
            break
        new_start = _window_start(tokens.shape[1], start, limit)
        if new_start != start:  # the window moved: fill a fresh cache from the kept tokens
            start, cache = new_start, kv_cache.DecodingCache(capacity)
            scores = _run(model, tokens[:, start:], cache)
        else:
            scores = _run(model, tokens[:, -1:], cache)
    return None if cache.unsupported else tokens


def _run(model: nn.Module, tokens: torch.Tensor, cache: kv_cache.DecodingCache) -> torch.Tensor:
    """Next-token scores for the last step, advancing the cache by the steps fed."""
    with kv_cache.decoding(cache):
        scores = _last_step_logits(model(tokens))
    cache.offset += tokens.shape[1]
    return scores


def _decode_by_recomputing(model: nn.Module, tokens: torch.Tensor, count: int, sampler: "_Sampler") -> torch.Tensor:
    limit, fixed = context_limit(model), _fixed_length(model)
    start = 0
    for _ in range(count):
        if fixed is not None:
            if tokens.shape[1] < fixed:
                raise ValueError(f"This model reads exactly {fixed} tokens; the prompt has {tokens.shape[1]}. Give a "
                                 f"prompt of at least {fixed} tokens (pad it on the left).")
            context = tokens[:, -fixed:]
        else:
            start = _window_start(tokens.shape[1], start, limit)
            context = tokens[:, start:]
        tokens = torch.cat([tokens, sampler(_last_step_logits(model(context)))], dim=1)
    return tokens


def _fixed_length(model: nn.Module) -> int | None:
    shape = getattr(model, "input_spec_shape", None)
    return shape[1] if isinstance(shape, tuple) and len(shape) == 2 and isinstance(shape[1], int) else None


def _last_step_logits(outputs: Any) -> torch.Tensor:
    if not isinstance(outputs, torch.Tensor):
        raise TypeError("generate() needs a model with one output: next-token scores (batch, steps, vocabulary).")
    if getattr(outputs, "_ember_logits_kind", None) == "softmax":
        outputs = outputs._ember_logits
    if outputs.ndim == 3:
        return outputs[:, -1]
    if outputs.ndim == 2:  # a model that predicts only the next token
        return outputs
    raise ValueError(f"generate() expects next-token scores of shape (batch, steps, vocabulary) or (batch, "
                     f"vocabulary); the model gave {tuple(outputs.shape)}.")


class _Sampler:
    """Draws the next token `(batch, 1)` from last-step logits with temperature, top-k and top-p."""

    def __init__(self, temperature: float, top_k: int | None, top_p: float | None, seed: int | None,
                 device: torch.device) -> None:
        self.temperature, self.top_k, self.top_p, self.seed, self.device = temperature, top_k, top_p, seed, device
        self.reset()

    def reset(self) -> None:
        self.generator = None
        if self.seed is not None:
            self.generator = torch.Generator(device=self.device).manual_seed(self.seed)

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        if self.temperature == 0:
            return logits.argmax(dim=-1, keepdim=True)
        logits = logits.float() / self.temperature
        if self.top_k is not None and self.top_k < logits.shape[-1]:
            kth = torch.topk(logits, self.top_k, dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if self.top_p is not None and self.top_p < 1.0:
            ordered, order = logits.sort(dim=-1, descending=True)
            probabilities = ordered.softmax(dim=-1)
            beyond = probabilities.cumsum(dim=-1) - probabilities > self.top_p  # the most likely token always stays
            logits = logits.scatter(-1, order, ordered.masked_fill(beyond, float("-inf")))
        return torch.multinomial(logits.softmax(dim=-1), 1, generator=self.generator)


def _prompt_tokens(prompt: Any) -> tuple[torch.Tensor, bool]:
    tokens = torch.as_tensor(np.asarray(prompt.cpu() if isinstance(prompt, torch.Tensor) else prompt))
    if tokens.is_floating_point() and not torch.equal(tokens, tokens.round()) or tokens.dtype == torch.bool:
        raise ValueError("generate() needs integer token ids as the prompt.")
    if tokens.ndim not in (1, 2) or tokens.shape[-1] == 0:
        raise ValueError(f"The prompt must be token ids of shape (steps,) or (batch, steps) with at least one step; "
                         f"got shape {tuple(tokens.shape)}.")
    single = tokens.ndim == 1
    return (tokens[None] if single else tokens).long(), single


def _check_sampling(max_new_tokens: int, temperature: float, top_k: int | None, top_p: float | None) -> None:
    if not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be a non-negative integer; got {max_new_tokens!r}.")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0 (0 = greedy); got {temperature}.")
    if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be a positive integer or None; got {top_k!r}.")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1] or None; got {top_p!r}.")

