"""Keras's `backend` helpers that still mean something here (no backend layer: ember calls torch)."""

from ember._naming import reset_names
from ember.config import floatx, set_floatx


def clear_session() -> None:
    """Restarts automatic layer naming (`dense`, `dense_1`, ...), as Keras's clear_session does."""
    reset_names()


__all__ = ["clear_session", "floatx", "set_floatx"]
