"""The training time budget (--train_minutes): what is spent, what is left, when to stop.

Only the loop's time counts: start-up (teacher, vocabulary, tracing before the first
step) is not spent from the budget; the seconds spent are checkpointed, so a resumed
run continues the same budget.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator


class BudgetClock:
    """Training time against a budget: elapsed (carried over a resume), left, when to stop.

    The run stops when the time left would not cover one more step plus the final
    evaluation (estimated from the last periodic one), so it ends on time.

    Args:
      spent: seconds spent by earlier starts of the run.
      budget: seconds the run may train in all (0: no budget, steps only).
      clock: seconds now (time.perf_counter; a fake one in tests).
    """

    def __init__(self, spent: float, budget: float, clock: Callable[[], float] = time.perf_counter):
        self.budget = budget
        self._spent = spent
        self._clock = clock
        self._start = self._last = clock()
        self._step_seconds = 0.0
        self._eval_seconds = 0.0

    def elapsed(self) -> float:
        return self._spent + self._clock() - self._start

    def left(self) -> float:
        return max(self.budget - self.elapsed(), 0.0)

    def fraction(self) -> float:
        """The share of the budget spent, in [0, 1] (0 without a budget): the schedule's
        progress."""
        return min(self.elapsed() / self.budget, 1.0) if self.budget else 0.0

    def step_done(self) -> None:
        """Records one step's duration (the first includes tracing: an upper bound)."""
        now = self._clock()
        self._step_seconds, self._last = now - self._last, now

    def over(self) -> bool:
        """Whether another step and the final evaluation no longer fit in the budget."""
        return bool(self.budget) and self.left() <= self._step_seconds + self._eval_seconds

    @contextlib.contextmanager
    def timing_evaluation(self) -> Iterator[None]:
        """Measures an evaluation (the final one will cost about as much)."""
        start = self._clock()
        yield
        self._eval_seconds = self._clock() - start
        self._last = self._clock()
