"""When an old `submitted` record counts as never submitted, from what the consumers say."""

from aiorch.planner.orphans import GIVE_UP_MARGIN, ConsumerProgress, OrphanWatch

IDLE = ConsumerProgress(idle=True, ack_floor=3, delivered=3, patience_s=150.0)


def busy(ack_floor: int, delivered: int, patience_s: float | None = 150.0) -> ConsumerProgress:
    return ConsumerProgress(idle=False, ack_floor=ack_floor, delivered=delivered, patience_s=patience_s)


def test_idle_consumers_or_ack_floors_past_the_mark_mean_its_submission_never_came():
    watch = OrphanWatch(seq=10, marked_at=0.0)
    assert watch.all_taken([IDLE, IDLE], asked_at=1.0, now=1.0)
    assert watch.all_taken([busy(ack_floor=12, delivered=14), IDLE], asked_at=1.0, now=1.0)


def test_a_submission_up_to_the_mark_still_unacked_keeps_the_task_waiting():
    watch = OrphanWatch(seq=10, marked_at=0.0)
    assert not watch.all_taken([busy(ack_floor=8, delivered=8), IDLE], asked_at=1.0, now=1.0)  # not delivered yet
    assert not watch.all_taken([busy(ack_floor=8, delivered=12), IDLE], asked_at=1.0, now=100.0)  # being planned


def test_a_message_that_ran_out_of_deliveries_stops_holding_orphans_back_after_the_consumer_s_patience():
    # The server leaves the ack floor below a message it gave up: only time tells it is gone.
    watch = OrphanWatch(seq=10, marked_at=0.0)
    stuck = busy(ack_floor=8, delivered=40, patience_s=150.0)
    assert not watch.all_taken([stuck, IDLE], asked_at=5.0, now=5.0)
    assert not watch.all_taken([stuck, IDLE], asked_at=100.0, now=100.0)  # timed from when it was first seen delivered
    assert watch.all_taken([stuck, IDLE], asked_at=200.0, now=5.0 + 150.0 * GIVE_UP_MARGIN + 1)
    unlimited = OrphanWatch(seq=10, marked_at=0.0)
    never = busy(ack_floor=8, delivered=40, patience_s=None)  # redelivered for ever: it may still be planned
    unlimited.all_taken([never, IDLE], asked_at=5.0, now=5.0)
    assert not unlimited.all_taken([never, IDLE], asked_at=5000.0, now=5000.0)
