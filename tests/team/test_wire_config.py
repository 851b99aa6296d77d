"""Team mode without a server: subjects, the wire format, and ``[team]`` / ``[relay]``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from oncall_tui.domain import team as wire
from oncall_tui.domain.remote import RemoteComment, RemoteCustomer, RemoteRemoval, RemoteTicket
from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.settings.config import ConfigError, load_config
from oncall_tui.team.connect import connect_options
from oncall_tui.team.member import filters_for, page_of, sources_for

AT = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
TICKET = RemoteTicket(
    source=Source.TRACKER,
    remote_id="acme/product#12",
    subject="Ünïcode * > . subject",
    body="line 1\nline 2",
    status=Status.OPEN,
    priority=Priority.P1,
    channel=Channel.TRACKER,
    labels=(":incoming", "bug"),
    assignee=None,
    requester="alex",
    customer_remote_id=None,
    opened_at=AT,
    updated_at=AT,
    url="https://github.com/acme/product/issues/12",
    version="v1",
)


@pytest.mark.parametrize(
    "name", ["acme/product", "C0123:1700000000.000100", "a.b*c>d e", "Ünï", "", "%41", "plain-1"]
)
def test_a_token_is_one_safe_subject_level_and_reads_back(name: str) -> None:
    token = wire.token(name)
    assert token and not set(token) & set(".*> \t")
    assert wire.untoken(token) == name or name == ""


def test_subjects_by_group() -> None:
    assert wire.group_of(TICKET) == "acme/product"
    assert wire.ticket_subject(Source.TRACKER, "acme/product", TICKET.remote_id) == (
        "oncall.tracker.acme%2Fproduct.ticket.acme%2Fproduct%2312"
    )
    assert wire.comment_subject(Source.CHAT, "C1", "C1:1.2", "C1:1.3") == (
        "oncall.chat.C1.comment.C1%3A1%2E2.C1%3A1%2E3"
    )
    assert wire.ticket_subject(Source.HELPDESK, None, "7") == "oncall.helpdesk._.ticket.7"
    assert wire.group_filter(Source.HELPDESK, "_") == "oncall.helpdesk.%5F.>"  # never "_"


@pytest.mark.parametrize(
    "record",
    [
        TICKET,
        RemoteComment(Source.HELPDESK, "7", "70", "Ann", "hi", False, AT, author_handle="a@x.io"),
        RemoteCustomer("9", "Acme", "premium", ("acme.com",), ("a@acme.com",), "ceres"),
        RemoteRemoval(Source.HELPDESK, "7", AT),
    ],
)
def test_records_round_trip_and_equal_records_give_equal_ids(record) -> None:  # type: ignore[no-untyped-def]
    payload = wire.encode(record, "g1")
    message = wire.decode(payload)
    assert message.record == record and message.group == "g1"
    assert wire.digest("s", payload) == wire.digest("s", wire.encode(record, "g1"))
    assert wire.digest("s", payload) != wire.digest("t", payload)


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        b'{"v": 2}',
        b'{"v":1,"kind":"ticket","record":{}}',
        b'{"v":1,"kind":"spam","record":{}}',
        b'{"v":1,"kind":"removed","record":{"source":"x"}}',
    ],
)
def test_unreadable_messages_are_skipped_and_counted(payload: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.decode(payload)
    good = wire.encode(TICKET, None)
    page, unreadable = page_of([("a", payload, 1), ("b", good, 2)])
    assert unreadable == 1 and page.tickets == (TICKET,)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_team_and_relay_tables(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            '[team]\nurl = ["nats://a:4222", "tls://b:4222"]\nuser = "alex"\n'
            '[team.groups]\nhelpdesk = ["100"]\nchat = ["C1"]\n'
            "[relay]\ninterval = 30\nlease_ttl = 10\nreplicas = 3\n"
            '[relay.after_hours]\nchannels = ["C1"]\nreply = "ticket {ticket}, back {opens}"\n',
        )
    )
    assert config.team is not None and config.relay is not None
    assert config.team.urls == ("nats://a:4222", "tls://b:4222")
    assert sources_for(config.team) == (Source.HELPDESK, Source.CHAT)
    assert filters_for(config.team, Source.HELPDESK) == ("oncall.helpdesk.100.>",)
    assert filters_for(config.team, Source.TRACKER) == ()
    assert config.relay.lease_ttl == 10 and config.relay.after_hours.channels == ("C1",)
    options = connect_options(config.team, "pw")
    assert options["user"] == "alex" and options["password"] == "pw"
    assert options["inbox_prefix"] == "_INBOX_alex" and "tls" in options
    nkey = connect_options(config.team.__class__(urls=("nats://a",)), "SUAEXAMPLE")
    assert nkey["nkeys_seed_str"] == "SUAEXAMPLE" and "token" not in nkey


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[team]\nurl = "http://x"\n', "team.url: expected a nats:// or tls:// URL"),
        ('[team]\nurl = "nats://u:p@x"\n', "team.url: expected a URL without credentials"),
        ('[team]\nurl = "nats://x"\nstream = "a.b"\n', "team.stream"),
        ('[team]\nurl = "nats://x"\n[team.groups]\nmail = ["1"]\n', "team.groups.mail"),
        ('[team]\nurl = "nats://x"\ntls_cert = "c.pem"\n', "team.tls_key"),
        ("[relay]\nlease_ttl = 60\n", "relay.lease_ttl: expected seconds, 3 to 25"),
        ("[relay]\nreplicas = 2\n", "relay.replicas"),
        ('[relay.after_hours]\nreply = "{name}"\n', "relay.after_hours.reply"),
        ("[relay]\ncolour = 1\n", "relay.colour"),
    ],
)
def test_bad_team_config_is_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    message = str(info.value)
    assert expected in message and "\n" not in message
    assert "u:p" not in message
