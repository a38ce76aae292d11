"""When an old `submitted` record counts as never submitted, from what the consumers say."""

from aiorch.planner.orphans import GIVE_UP_MARGIN, ConsumerProgress, OrphanWatch

IDLE = ConsumerProgress(idle=True, ack_floor=3, delivered=3, patience_s=150.0)
SWEEP_GAP_S = 90.0


def busy(ack_floor: int, delivered: int, patience_s: float | None = 150.0) -> ConsumerProgress:
    return ConsumerProgress(idle=False, ack_floor=ack_floor, delivered=delivered, patience_s=patience_s)


def taken_at(watch: OrphanWatch, consumers: list[ConsumerProgress], *times: float) -> list[bool]:
    """The watch's answer at each of these moments, the consumers asked just then."""
    return [watch.all_taken(consumers, asked_at=t, now=t, max_gap_s=SWEEP_GAP_S) for t in times]


def test_idle_consumers_or_ack_floors_past_the_mark_mean_its_submission_never_came():
    assert taken_at(OrphanWatch(seq=10, marked_at=0.0), [IDLE, IDLE], 1.0) == [True]
    assert taken_at(OrphanWatch(seq=10, marked_at=0.0), [busy(ack_floor=12, delivered=14), IDLE], 1.0) == [True]


def test_a_submission_up_to_the_mark_still_unacked_keeps_the_task_waiting():
    not_delivered = busy(ack_floor=8, delivered=8)
    being_planned = busy(ack_floor=8, delivered=12)
    assert taken_at(OrphanWatch(seq=10, marked_at=0.0), [not_delivered, IDLE], 1.0, 60.0, 120.0) == [False] * 3
    assert taken_at(OrphanWatch(seq=10, marked_at=0.0), [being_planned, IDLE], 1.0, 60.0, 120.0) == [False] * 3


def test_a_message_that_ran_out_of_deliveries_stops_holding_orphans_back_after_the_consumer_s_patience():
    # The server leaves the ack floor below a message it gave up: only time tells it is gone.
    stuck = busy(ack_floor=8, delivered=40, patience_s=150.0)
    given_up = 5.0 + 150.0 * GIVE_UP_MARGIN + 1  # timed from when it was first seen delivered
    assert taken_at(OrphanWatch(seq=10, marked_at=0.0), [stuck, IDLE], 5.0, 80.0, 160.0, given_up) == [
        False, False, False, True]
    # A consumer that redelivers for ever may still plan it.
    never = busy(ack_floor=8, delivered=40, patience_s=None)
    assert taken_at(OrphanWatch(seq=10, marked_at=0.0), [never, IDLE], 5.0, 80.0, 160.0, 240.0, 320.0) == [False] * 5


def test_time_the_bus_was_out_of_reach_does_not_count_as_redeliveries():
    stuck = busy(ack_floor=8, delivered=40, patience_s=150.0)
    # Checked at 5 s, then not for 10 minutes: the clock starts again at 605 s.
    assert taken_at(OrphanWatch(seq=10, marked_at=0.0), [stuck, IDLE], 5.0, 605.0, 680.0, 760.0, 832.0) == [
        False, False, False, False, True]
