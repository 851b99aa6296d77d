"""The command line: flags, errors as one line with exit 2, demo database handling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from oncall_tui import __version__
from oncall_tui.cli.main import build_parser, main
from oncall_tui.compose import open_app_context


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oncall_tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_version_and_help() -> None:
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"oncall-tui {__version__}"
    out = run("--help")
    assert out.returncode == 0 and "--demo" in out.stdout and "--db" in out.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--seed", "abc"], "--seed: expected a whole number"),
        (["--seed", "-3"], "--seed"),
        (["--db"], "--db: expected one argument"),
        (["nonsense-command"], "invalid choice"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(
    args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("sync_interval = [", "invalid TOML"),
        ("colour = 'blue'", "colour"),
        ("sync_interval = 'soon'", "sync_interval: expected a number"),
        ("bell = 3", "bell: expected true or false"),
        ("[[views]]\nquery = 'is:open'\n", "views[0].name"),
        ("[backends.github]\nrepos = ['nope']\n", "backends.github.repos"),
        ("[backends.zendesk]\n", "backends.zendesk.url"),
        ("[sla]\ncritical_minutes = 'x'\n", "sla.critical_minutes"),
    ],
)
def test_bad_config_names_file_and_key(
    tmp_path: Path, text: str, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    code = main(["--config", str(config), "--db", str(tmp_path / "x.db")])
    err = capsys.readouterr().err
    assert code == 2
    assert str(config) in err and fragment in err
    assert len(err.strip().splitlines()) == 1


def test_corrupt_database_is_reported_not_traced(tmp_path: Path) -> None:
    db = tmp_path / "bad.db"
    db.write_text("not a database")
    out = run("--db", str(db))
    assert out.returncode == 1
    assert "not an SQLite database" in out.stderr and "Traceback" not in out.stderr
    assert db.read_text() == "not a database"


def test_demo_db_is_seeded_once_and_reopened(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    args = build_parser().parse_args(["--demo", "--db", str(db), "--seed", "3"])
    ctx = open_app_context(args)
    count = ctx.store.tickets.ticket_count()
    assert 270 <= count <= 310  # about 200 current tickets and 90 from the past week
    tid = ctx.store.queue.open_queue(
        __import__("oncall_tui.domain.query", fromlist=["x"]).parse_query(""), limit=1
    )[0].id
    ctx.store.tickets.assign(tid, "someone-new")
    ctx.store.close()
    ctx = open_app_context(args)  # reopened, not reseeded: the edit survives
    try:
        assert ctx.store.tickets.ticket_count() == count
        assert ctx.store.tickets.get_ticket(tid).assignee == "someone-new"
    finally:
        ctx.store.close()


def test_demo_refuses_to_seed_a_real_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "real.db"
    from oncall_tui.store import open_store

    open_store(db).close()
    assert main(["--demo", "--db", str(db)]) == 2
    assert "not a demo database" in capsys.readouterr().err


def test_env_overrides_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from oncall_tui.settings.paths import resolve_paths

    monkeypatch.setenv("ONCALL_TUI_CONFIG", str(tmp_path / "c.toml"))
    monkeypatch.setenv("ONCALL_TUI_DB", str(tmp_path / "d.db"))
    paths = resolve_paths()
    assert paths.config == tmp_path / "c.toml" and paths.db == tmp_path / "d.db"
    explicit = resolve_paths(tmp_path / "x.toml", tmp_path / "y.db")
    assert explicit.config == tmp_path / "x.toml" and explicit.db == tmp_path / "y.db"


def test_default_paths_follow_platformdirs(tmp_path: Path) -> None:
    from oncall_tui.settings.paths import resolve_paths

    paths = resolve_paths()
    assert paths.config.name == "config.toml" and "oncall-tui" in str(paths.config)
    assert paths.db.name == "oncall-tui.db" and "oncall-tui" in str(paths.db)


def test_python_dash_m_runs_sla(tmp_path: Path) -> None:
    out = run(
        "sla",
        "due",
        "--opened",
        "2026-11-25T15:00:00-08:00",
        "--business-hours",
        "4",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "2026-11-27T18:00:00Z\n"


@pytest.mark.anyio
async def test_demo_says_it_ignores_a_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], anyio_backend: str
) -> None:
    from oncall_tui.cli.main import build_parser
    from oncall_tui.compose import open_app_context
    from oncall_tui.ui.app import OncallApp

    config = tmp_path / "config.toml"
    config.write_text('user = "someone@else"\n')
    args = build_parser().parse_args(
        ["--demo", "--config", str(config), "--db", str(tmp_path / "demo.db")]
    )
    ctx = open_app_context(args)
    ctx.engine_factory = None
    err = capsys.readouterr().err
    assert err.startswith("oncall-tui: note: --demo ignores the config") and str(config) in err
    assert ctx.config.user != "someone@else"
    app = OncallApp(ctx)
    try:
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await pilot.pause()
            shown = " ".join(str(n.message) for n in app._notifications)
    finally:
        ctx.store.close()
    assert "--demo ignores the config" in shown


def test_demo_without_a_config_says_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from oncall_tui.cli.main import build_parser
    from oncall_tui.compose import open_app_context

    ctx = open_app_context(build_parser().parse_args(["--demo", "--db", str(tmp_path / "d.db")]))
    ctx.store.close()
    assert capsys.readouterr().err == "" and ctx.notices == ()


def test_a_missing_config_named_on_the_command_line_or_in_the_environment_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.toml"
    assert main(["--config", str(missing), "--db", str(tmp_path / "x.db")]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err == f"oncall-tui: error: {missing}: no such config file (check --config / "
        "ONCALL_TUI_CONFIG)"
    )
    monkeypatch.setenv("ONCALL_TUI_CONFIG", str(missing))
    assert main(["sla", "calendar", "--year", "2027"]) == 2
    assert str(missing) in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()


def test_the_demo_files_bug_reports_in_its_fake_trackers_repository(tmp_path: Path) -> None:
    from oncall_tui.demo.live import GITHUB_URL
    from oncall_tui.demo.seed import DEMO_REPO
    from oncall_tui.ui.screens.bug_report_data import bug_report_settings

    args = build_parser().parse_args(["--demo", "--db", str(tmp_path / "demo.db")])
    ctx = open_app_context(args)
    try:
        assert bug_report_settings(ctx.config).repo == DEMO_REPO
        assert ctx.config.backends["github"].url == GITHUB_URL
    finally:
        ctx.store.close()


@pytest.mark.anyio
async def test_a_reopened_demo_keeps_what_the_last_session_sent(
    tmp_path: Path, anyio_backend: str
) -> None:
    """Day two of a demo walk: the fakes serve the database's records, so an issue filed and
    labelled on day one is still there, and the fakes' new records never take its number."""
    from oncall_tui.domain.ops import OpState
    from oncall_tui.domain.query import parse_query
    from oncall_tui.domain.tickets import Source

    db = str(tmp_path / "walk.db")

    def refs(store: Any) -> dict[str, str]:
        rows = store.queue.open_queue(parse_query(""), limit=10**6)
        tickets = [store.tickets.get_ticket(r.id) for r in rows]
        return {f"{t.source}:{t.remote_id}": t.subject for t in tickets if t.remote_id}

    async def session(now: str) -> tuple[Any, Any, list[Any]]:
        ctx = open_app_context(build_parser().parse_args(["--demo", "--db", db, "--now", now]))
        engine = ctx.engine_factory(None)
        await engine.run_once()
        return ctx, engine, engine.between_passes.__self__.fakes

    ctx, engine, (desk, tracker, _) = await session("2026-11-30T18:30:00Z")
    for _ in range(6):  # new tickets and issues the fakes make up on day one
        desk.add_activity()
        tracker.add_activity()
    await engine.run_once()
    issue = next(r.id for r in ctx.store.queue.open_queue(parse_query("source:tracker"), limit=1))
    ctx.store.tickets.add_labels(issue, ["~investigate"])
    await engine.run_once()  # sent to the fake
    assert [o.state.value for o in ctx.store.outbox.ops(list(OpState), issue)] == ["done"]
    day_one = refs(ctx.store)
    engine.store.close()
    ctx.store.close()

    ctx, engine, (desk, tracker, _) = await session("2026-12-01T18:30:00Z")
    try:
        # the help desk's one id counter starts past every ticket and comment of day one
        held = [
            int(c.remote_id)
            for r in ctx.store.queue.open_queue(parse_query("source:desk"), limit=10**6)
            for c in ctx.store.tickets.comments(r.id)
            if c.remote_id and c.remote_id.isdigit() and int(c.remote_id) < 7_000_000
        ]
        assert desk._new_id() > max(held)
        for _ in range(6):
            desk.add_activity()
            tracker.add_activity()
        await engine.run_once()
        day_two = refs(ctx.store)
        assert {k: day_two[k] for k in day_one} == day_one  # no record taken over
        assert len(day_two) > len(day_one)  # day two's new ones have numbers of their own
        assert "~investigate" in ctx.store.tickets.get_ticket(issue).labels
        assert ctx.store.tickets.get_ticket(issue).source is Source.TRACKER
    finally:
        engine.store.close()
        ctx.store.close()
