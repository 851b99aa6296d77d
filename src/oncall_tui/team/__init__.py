"""Team mode: one relay per team publishes every record to a NATS JetStream stream; each
member's sync engine reads the stream instead of pulling the backends.

- :mod:`.config`: ``[team]`` and ``[relay]`` (no NATS import: the config loads without it).
- :mod:`.nats`: connecting (TLS, user/password, token, nkey) and the stream and bucket.
- :mod:`.member`: :class:`~.member.TeamBackend`, what a member's engine pulls from.
- :mod:`.relay`: the relay: publishing, the leader lease, the standby's view of the stream.
- :mod:`.after_hours`: the out-of-hours chat reply and help-desk ticket.

The wire format and subjects are in :mod:`oncall_tui.domain.team`; what the relay queues for
the stream is in :mod:`oncall_tui.store.team`.
"""
