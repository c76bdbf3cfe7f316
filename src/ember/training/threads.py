"""Choosing torch's CPU thread count for small training steps by timing them.

At the tutorials' sizes a CPU step is a few small matrix products and an optimizer update. Split
over every core they are faster on a quiet machine, but when other work takes a core away the
threads wait for each other and fewer threads win: the MNIST MLP's step on 2 cores took about
320 µs with 2 threads and 400 µs with 1 on a quiet machine, 600 µs and 430 µs on a busy one
(benchmarks/RESULTS.md). The tuner times a few steps under each candidate count, keeps the fastest
for a while, then measures again, and gives the user's setting back when the loop ends.

It is used only for steps whose results do not depend on the thread count (the dense-stack step:
tested bitwise), so a seeded run gives the same numbers whichever count it picks.
"""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable

import torch

from ember.training.step import Step

PROBE_STEPS = 16  # timed steps per candidate (after one untimed step following a switch)
HOLD_STEPS = 1024  # steps run with the chosen count before measuring again


def candidates(threads: int) -> list[int]:
    """The counts tried: the user's, then halvings down to one (at most four)."""
    counts = [threads]
    while counts[-1] > 1 and len(counts) < 4:
        counts.append(max(1, counts[-1] // 2))
    return counts


class ThreadTuner:
    """Call `tick()` before every training step and `finish()` when the loop ends."""

    def __init__(self, probe_steps: int = PROBE_STEPS, hold_steps: int = HOLD_STEPS,
                 clock: Callable[[], float] = time.perf_counter,
                 get_threads: Callable[[], int] = torch.get_num_threads,
                 set_threads: Callable[[int], None] = torch.set_num_threads) -> None:
        self.probe_steps, self.hold_steps = probe_steps, hold_steps
        self._clock, self._get_threads, self._set_threads = clock, get_threads, set_threads
        self._user_threads: int | None = None
        self.choice: int | None = None  # the count kept after the last measurement

    def tick(self) -> None:
        now = self._clock()
        if self._user_threads is None:
            self._start(now)
            return
        duration, self._last = now - self._last, now
        if self._queue:  # measuring
            if self._skip:
                self._skip = False
            else:
                self._durations.append(duration)
            if len(self._durations) >= self.probe_steps:
                self._medians[self._current] = statistics.median(self._durations)
                self._durations = []
                if self._queue[1:]:
                    self._queue.pop(0)
                    self._switch(self._queue[0])
                else:
                    self._queue = []
                    self.choice = min(self._medians, key=self._medians.get)
                    self._switch(self.choice)
                    self._hold = self.hold_steps
        else:
            self._hold -= 1
            if self._hold <= 0:
                self._measure()

    def finish(self) -> None:
        """Gives the thread count back to what it was when the loop started."""
        if self._user_threads is not None:
            self._set_threads(self._user_threads)
            self._user_threads = None

    def _start(self, now: float) -> None:
        self._user_threads = self._current = self._get_threads()
        self._last = now
        self._measure()

    def _measure(self) -> None:
        """Times the current count first, then each other candidate."""
        counts = candidates(self._user_threads)
        self._queue = [self._current] + [count for count in counts if count != self._current]
        self._medians: dict[int, float] = {}
        self._durations: list[float] = []
        self._skip = False
        if len(self._queue) == 1:
            self._queue, self._hold = [], float("inf")

    def _switch(self, count: int) -> None:
        if count != self._current:
            self._set_threads(count)
            self._current, self._skip = count, True


class ThreadTunedStep(Step):
    """A step whose training batches run under the thread count a `ThreadTuner` picks; the count
    goes back to the user's at `finish`. Evaluation and prediction run as the wrapped step's."""

    def __init__(self, step: Step, tuner: ThreadTuner | None = None) -> None:
        self.step, self.tuner = step, tuner or ThreadTuner()

    @property
    def kind(self) -> str:
        return self.step.kind

    def train(self, batch: tuple) -> None:
        self.tuner.tick()
        self.step.train(batch)

    def test(self, batch: tuple) -> None:
        self.step.test(batch)

    def predict(self, batch: tuple) -> Any:
        return self.step.predict(batch)

    def finish(self) -> None:
        self.tuner.finish()
        self.step.finish()
