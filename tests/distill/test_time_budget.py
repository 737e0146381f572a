"""The time budget: spent (carried over a resume), left, and a stop that leaves room for
the final evaluation."""

from lealla.models.distill.time_budget import BudgetClock


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_resumed_budget_continues_from_the_seconds_spent():
    clock = FakeClock()
    budget = BudgetClock(spent=20.0, budget=60.0, clock=clock)
    assert budget.elapsed() == 20.0 and budget.left() == 40.0
    clock.now += 10.0
    assert budget.elapsed() == 30.0 and budget.fraction() == 0.5
    clock.now += 100.0
    assert budget.left() == 0.0 and budget.fraction() == 1.0 and budget.over()


def test_the_run_stops_when_a_step_and_the_final_evaluation_no_longer_fit():
    clock = FakeClock()
    budget = BudgetClock(spent=0.0, budget=60.0, clock=clock)
    with budget.timing_evaluation():
        clock.now += 8.0  # what the final evaluation will cost
    clock.now += 2.0
    budget.step_done()  # a 2 s step
    assert not budget.over()  # 50 s left
    clock.now += 39.0
    assert not budget.over()  # 11 s left > 2 + 8
    clock.now += 1.5
    assert budget.over()  # 9.5 s left: no room for a step and the evaluation


def test_without_a_budget_only_the_steps_end_the_run():
    clock = FakeClock()
    budget = BudgetClock(spent=0.0, budget=0.0, clock=clock)
    clock.now += 10**6
    budget.step_done()
    assert not budget.over() and budget.fraction() == 0.0
