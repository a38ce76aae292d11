"""Telling a task whose submission never came from one still waiting in the bus.

The gateway writes a task's record before it publishes the submission; if it stops in
between, the record stays `submitted` with nothing on its way. Submissions carry no task
id in their subject, so the planner cannot look its own up: instead it notes the tasks
stream's last sequence when the record is first seen old, and the task is an orphan once
every submission up to that point has been taken for good by the planner's consumers.
"""

from dataclasses import dataclass, field

GIVE_UP_MARGIN = 1.5
"""How much longer than a consumer's redelivery budget to wait before a message it delivered
and never acked counts as given up."""


@dataclass(frozen=True)
class ConsumerProgress:
    """How far a durable consumer has got through its stream, as the server said."""

    idle: bool
    ack_floor: int
    delivered: int
    patience_s: float | None
    """How long a message may stay unacked before the server gives it up; None: never."""

    @classmethod
    def of(cls, info) -> "ConsumerProgress":
        """From nats-py's `ConsumerInfo`."""
        config = info.config
        wait = max([config.ack_wait or 30.0, *(config.backoff or [])])
        limited = config.max_deliver is not None and config.max_deliver > 0
        return cls(idle=not info.num_pending and not info.num_ack_pending,
                   ack_floor=info.ack_floor.stream_seq or 0, delivered=info.delivered.stream_seq or 0,
                   patience_s=config.max_deliver * wait if limited else None)


@dataclass
class OrphanWatch:
    """An old `submitted` record: the stream's last sequence when it was first seen old."""

    seq: int
    marked_at: float
    delivered_at: dict[int, float] = field(default_factory=dict)
    """Per consumer, when it was first seen to have delivered everything up to `seq`."""
    checked_at: float | None = None

    def all_taken(self, consumers: list[ConsumerProgress], asked_at: float, now: float, max_gap_s: float) -> bool:
        """Whether every submission up to `seq` has been taken for good by every consumer:
        it is idle, or acked past `seq`, or delivered past it so long ago that the server has
        given up what was never acked (the ack floor stays below a message that ran out of
        deliveries, so under load it alone would wait for ever). Checks more than `max_gap_s`
        apart (the bus was out of reach) start that clock again: nothing was redelivered."""
        if self.checked_at is not None and asked_at - self.checked_at > max_gap_s:
            self.delivered_at.clear()
        self.checked_at = asked_at
        for index, consumer in enumerate(consumers):
            if consumer.idle or consumer.ack_floor >= self.seq:
                continue
            if consumer.delivered < self.seq or consumer.patience_s is None:
                return False
            since = self.delivered_at.setdefault(index, asked_at)
            if now - since <= consumer.patience_s * GIVE_UP_MARGIN:
                return False
        return True
