"""`monitor digest` against a real SMTP server (aiosmtpd on 127.0.0.1): the mail arrives with a
correctly encoded Chinese subject and UTF-8 text and HTML parts, over plain SMTP with a login
and over STARTTLS; the links and findings lines appear only with that data; every failure — a
wrong password, a refused recipient, no server, STARTTLS not offered, SSL to a plain port, a
login offered only over TLS, an untrusted certificate — is one line and exit status 1, and the
password is never printed; `--stdout` prints the text. The digest's numbers equal the reports' JSON."""

from __future__ import annotations

import base64
import dataclasses
import email
import json
import logging
import ssl
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from click.testing import CliRunner, Result

from monitor.cli._main import cli
from monitor.report import build_digest, build_report, digest_html, digest_text, parse_period, render
from monitor.sim import HistorySpec, generate
from monitor.store import Store
from tests.support.certs import write_certs
from tests.support.ports import closed_port, free_port
from tests.support.reportdb import NOW, TZ, add_links_and_findings, demo_db, demo_report

SECRET = "s3cret-pw"


class Inbox:
    """An aiosmtpd handler that keeps every message, or refuses every recipient."""

    def __init__(self, refuse: bool = False) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.refuse = refuse

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str, options: Any) -> str:
        if self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.raw.append(raw)
        self.messages.append(email.message_from_bytes(raw, policy=default_policy))  # type: ignore[arg-type]
        return "250 Message accepted"


def authenticate(server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    """monitor / SECRET; anything else gets aiosmtpd's 535 (handled=False: aiosmtpd sends the reply,
    as a real server does; with the default handled=True it would send none and the client wait)."""
    ok = isinstance(data, LoginPassword) and data.login == b"monitor" and data.password == SECRET.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight days of demo history up to now (the command reads the real clock)."""
    path = tmp_path_factory.mktemp("digest") / "monitor.db"
    store = Store.open(path)
    generate(store, HistorySpec(start=time.time() - 8 * 86400, days=8, seed=7))
    store.close()
    return path


def config(tmp_path: Path, database: Path, port: int, smtp: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"storage: {{path: {database}}}\n"
        "sites:\n  - name: demo\n    title: 示例市交通运输局\n    base_url: http://bureau.example/\n"
        "    pages: [{name: homepage, url: /, kind: homepage}]\n"
        "digest:\n  to: [office@bureau.example.cn, chief@bureau.example.cn]\n  sender: monitor@bureau.example.cn\n"
        f"  smtp: {{host: 127.0.0.1, port: {port}, timeout: 10s, {smtp}}}\n",
        encoding="utf-8",
    )
    return path


def run(path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["digest", "-c", str(path), *args], env=env)


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, authenticator=authenticate, auth_require_tls=False
    )
    controller.start()
    yield handler, port
    controller.stop()


def test_the_mail_arrives_with_chinese_subject_and_body(
    inbox: tuple[Inbox, int], tmp_path: Path, database: Path
) -> None:
    handler, port = inbox
    path = config(tmp_path, database, port, "security: none, username: monitor, password_env: DIGEST_PW")
    result = run(path, env={"DIGEST_PW": SECRET})
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    (mail,) = handler.messages
    assert mail["Subject"].startswith("网站监测日报 ")
    assert b"Subject: =?utf-8?b?" in handler.raw[0] and handler.raw[0].isascii()  # RFC 2047, base64 bodies
    assert mail["To"] == "office@bureau.example.cn, chief@bureau.example.cn"
    text = mail.get_body(("plain",))
    page = mail.get_body(("html",))
    assert text is not None and page is not None
    assert text.get_content_charset() == "utf-8" and page.get_content_charset() == "utf-8"
    body = text.get_content()
    assert "【示例市交通运输局】" in body and "近7天不可访问率" in body and "Asia/Shanghai" in body
    assert "示例市交通运输局" in page.get_content()
    for part in (body, page.get_content()):  # no link pass, no integrity reading: no such line
        assert "首页不可用链接" not in part and "安全与标识" not in part


def test_the_mail_has_the_links_and_findings_lines_when_the_database_has_them(
    inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    """Link passes and findings up to now (the command reads the real clock): both lines in the
    text and in the HTML part."""
    path = tmp_path / "monitor.db"
    store = Store.open(path)
    generate(store, HistorySpec(start=time.time() - 3 * 86400, days=3, seed=7))
    store.close()
    add_links_and_findings(path, now=time.time())
    handler, port = inbox
    result = run(config(tmp_path, path, port, "security: none"))
    assert result.exit_code == 0, result.output
    (mail,) = handler.messages
    text, page = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None and page is not None
    for part in (text.get_content(), page.get_content()):
        assert "首页不可用链接：2 条（" in part and "检查首页链接 5 条）" in part
        assert "安全与标识问题：现有 2 项（高风险 1 项），近24小时已解决 1 项" in part
        assert "高风险：hidden_link/display_none casino-portal.invalid（首次发现 " in part


def test_starttls_with_the_password_from_a_file(tmp_path: Path, database: Path) -> None:
    (tmp_path / "certs").mkdir()
    certs = write_certs(tmp_path / "certs")
    cert, key = certs.pairs["valid"]
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    handler, port = Inbox(), free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=tls, require_starttls=True, authenticator=authenticate
    )
    controller.start()
    try:
        (tmp_path / "pw").write_text(SECRET + "\n", encoding="utf-8")
        smtp = f"security: starttls, username: monitor, password_file: {tmp_path / 'pw'}"
        result = run(config(tmp_path, database, port, smtp), env={"SSL_CERT_FILE": str(certs.ca)})
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    assert len(handler.messages) == 1


def test_a_refusing_server_is_one_line_and_exit_1(tmp_path: Path, database: Path) -> None:
    handler, port = Inbox(refuse=True), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        result = run(config(tmp_path, database, port, "security: none"))
    finally:
        controller.stop()
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: SMTP server 127.0.0.1:{port} refused every recipient: 550 5.1.1 mailbox unavailable"
    ]


def test_no_server_and_a_chinese_password_are_one_line(
    inbox: tuple[Inbox, int], tmp_path: Path, database: Path
) -> None:
    port = closed_port()
    result = run(config(tmp_path, database, port, "security: none"))
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert f"cannot send the digest via 127.0.0.1:{port}" in result.output
    _, good = inbox
    path = config(tmp_path, database, good, "security: none, username: monitor, password_env: DIGEST_PW")
    chinese = run(path, env={"DIGEST_PW": "口令"})
    assert chinese.exit_code == 1 and chinese.output.strip().splitlines() == [
        f"error: cannot log in to 127.0.0.1:{good}: SMTP AUTH takes an ASCII username and password"
    ]


def test_stdout_and_a_config_without_digest(tmp_path: Path, database: Path) -> None:
    path = config(tmp_path, database, 25, "security: none")
    printed = run(path, "--stdout")
    assert printed.exit_code == 0 and printed.output.startswith("网站监测日报 ")
    bare = tmp_path / "bare.yaml"
    bare.write_text(path.read_text(encoding="utf-8").split("digest:")[0], encoding="utf-8")
    result = run(bare)
    assert result.exit_code == 2 and "no digest: section" in result.output


@pytest.mark.parametrize(
    ("smtp", "message"),
    [
        ("security: none, username: monitor", "username needs password_file or password_env"),
        ("security: tls", "security"),
        ("port: 0", "port"),
    ],
)
def test_bad_digest_config_is_reported_with_its_key(tmp_path: Path, database: Path, smtp: str, message: str) -> None:
    result = run(config(tmp_path, database, 25, smtp), "--stdout")
    assert result.exit_code == 2 and "digest.smtp" in result.output and message in result.output


def test_the_digest_numbers_are_the_reports(tmp_path: Path) -> None:
    """On the fixed-clock demo: the last day's failed visits and outages, the 7-day rate."""
    path = demo_db(tmp_path / "monitor.db")
    day, week = demo_report(path, "24h"), demo_report(path, "7d")
    made = build_digest(day, week)
    day_home = json.loads(render(day, "json"))["sites"][0]["pages"][0]
    week_home = json.loads(render(week, "json"))["sites"][0]["pages"][0]
    (site,) = made.sites
    assert (site.unreachable_day, site.visits_day) == (day_home["failed_visits"], day_home["visits"])
    assert (site.unreachable_week, site.visits_week) == (week_home["failed_visits"], week_home["visits"])
    assert len(site.outages) == day_home["outages"]
    text = digest_text(made)
    assert f"近24小时 {day_home['failed_visits']} 次（共访问 {day_home['visits']} 次）" in text
    assert "统计时段：2026-07-19T08:00:00+08:00 至 2026-07-20T08:00:00+08:00（Asia/Shanghai）" in text


def test_the_links_and_findings_lines_are_the_reports(tmp_path: Path) -> None:
    """On the fixed-clock demo with link passes and findings: the broken links of the last day's
    homepage pass and the open findings equal the 24 h report's JSON; the subject counts a site
    with an open high finding even when nothing else needs attention."""
    path = add_links_and_findings(demo_db(tmp_path / "monitor.db"))
    day, week = demo_report(path, "24h"), demo_report(path, "7d")
    data = json.loads(render(day, "json"))["sites"][0]
    (site,) = build_digest(day, week).sites
    assert site.links is not None and site.findings is not None
    assert site.links.broken == data["links"]["homepage_broken_per_day_max"] == 2  # one pass in the last day
    assert (site.links.checked, site.links.links) == ("2026-07-19T09:00:00+08:00", 5)
    integrity = data["integrity"]
    assert (site.findings.open, site.findings.open_high, site.findings.resolved) == (
        len(integrity["open"]), integrity["open_high"], len(integrity["resolved_in_period"])
    ) == (2, 1, 1)  # fmt: skip
    text = digest_text(build_digest(day, week))
    assert "首页不可用链接：2 条（2026-07-19T09:00:00+08:00 检查首页链接 5 条）\n" in text
    assert "安全与标识问题：现有 2 项（高风险 1 项），近24小时已解决 1 项\n" in text
    assert "  高风险：hidden_link/display_none casino-portal.invalid（首次发现 2026-07-15T08:00:00+08:00）\n" in text
    quiet = dataclasses.replace(site, stale=(), blank=(), outages=())
    made = dataclasses.replace(build_digest(day, week), sites=(quiet,))
    assert made.subject.endswith("（1个网站需关注）") and quiet.state == "正常"
    calm = dataclasses.replace(quiet, findings=dataclasses.replace(site.findings, open_high=0, high=()))
    assert not dataclasses.replace(made, sites=(calm,)).subject.endswith("需关注）")


def test_a_site_with_link_checks_but_no_pass_in_the_last_day_says_so(tmp_path: Path) -> None:
    """Two days later (no pass since): the links line says no homepage check was completed, not
    0 broken; the open findings are still listed; a database without either has neither line."""
    path = add_links_and_findings(demo_db(tmp_path / "monitor.db"))
    later = NOW + 2 * 86400
    store = Store.open(path, readonly=True)
    try:
        day, week = (build_report(store, parse_period(tz_name=TZ, now=later, last=last), now=later)
                     for last in ("24h", "7d"))  # fmt: skip
    finally:
        store.close()
    text = digest_text(build_digest(day, week))
    assert "首页不可用链接：近24小时未完成首页链接检查\n" in text
    assert "安全与标识问题：现有 2 项（高风险 1 项）\n" in text  # nothing resolved in this last day
    plain = demo_db(tmp_path / "plain.db")
    bare = build_digest(demo_report(plain, "24h"), demo_report(plain, "7d"))
    assert (bare.sites[0].links, bare.sites[0].findings) == (None, None)
    assert "首页不可用链接" not in digest_text(bare) + digest_html(bare)
    assert "安全与标识" not in digest_text(bare) + digest_html(bare)


def plain_server(**options: Any) -> Controller:
    controller = Controller(Inbox(), hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    return controller


def test_a_wrong_password_is_one_line_naming_the_user_never_the_password(
    inbox: tuple[Inbox, int], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """AUTH rejected (535) by a server with an authenticator: one line, exit 1, the password in
    neither the output nor any log record of the monitor or smtplib."""
    caplog.set_level(logging.DEBUG)
    handler, port = inbox
    path = config(tmp_path, database_for(tmp_path), port, "security: none, username: monitor, password_env: DIGEST_PW")
    wrong = "wrong-Pa55word"
    result = run(path, env={"DIGEST_PW": wrong})
    assert result.exit_code == 1 and handler.messages == []
    assert result.output.strip().splitlines() == [
        f"error: SMTP server 127.0.0.1:{port} refused the login of user 'monitor': 535 5.7.8 Authentication"
        " credentials invalid (check the username and the password in $DIGEST_PW)"
    ]
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    tokens = (
        wrong,
        base64.b64encode(wrong.encode()).decode(),
        base64.b64encode(b"\0monitor\0" + wrong.encode()).decode(),
    )
    assert not any(token in result.output + ours for token in tokens)


@pytest.mark.parametrize(
    ("smtp", "options", "line"),
    [
        ("security: starttls", {}, "error: SMTP server {where} does not offer STARTTLS (security: starttls); for a"
         " port that starts with TLS (465) use security: ssl"),
        ("security: ssl", {}, "error: cannot start TLS with {where}: the server answered without TLS (security: ssl"
         " on a plain or STARTTLS port; for port 587 or 25 use security: starttls)"),
        ("security: none, username: monitor, password_env: DIGEST_PW", {"authenticator": authenticate},
         "error: SMTP server {where} does not offer a login (SMTP AUTH) on this connection (many servers offer it"
         " only over TLS: security: starttls or ssl)"),
    ],
    ids=["starttls-not-offered", "ssl-to-a-plain-port", "auth-only-over-tls"],
)  # fmt: skip
def test_a_mismatched_security_setting_is_one_line(
    tmp_path: Path, smtp: str, options: dict[str, Any], line: str, caplog: pytest.LogCaptureFixture
) -> None:
    """STARTTLS required but not offered, SSL spoken to a plain port, a login the server offers
    only after TLS (aiosmtpd's default): one line saying which setting to change, exit 1."""
    caplog.set_level(logging.CRITICAL, logger="mail.log")  # aiosmtpd's complaint about the TLS hello
    controller = plain_server(**options)
    try:
        path = config(tmp_path, database_for(tmp_path), controller.port, smtp)
        result = run(path, env={"DIGEST_PW": SECRET})
    finally:
        controller.stop()
    assert result.exit_code == 1 and SECRET not in result.output
    assert result.output.strip().splitlines() == [line.format(where=f"127.0.0.1:{controller.port}")]


def test_an_untrusted_certificate_is_one_line(tmp_path: Path) -> None:
    """STARTTLS with a certificate from a CA the client does not trust (no SSL_CERT_FILE)."""
    (tmp_path / "certs").mkdir()
    cert, key = write_certs(tmp_path / "certs").pairs["valid"]
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    controller = plain_server(tls_context=tls, require_starttls=True)
    try:
        result = run(config(tmp_path, database_for(tmp_path), controller.port, "security: starttls"))
    finally:
        controller.stop()
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: TLS certificate of 127.0.0.1:{controller.port} is not trusted: unable to get local issuer certificate"
    ]


def database_for(tmp_path: Path) -> Path:
    """A small database (two days of history): these tests fail before the digest is sent."""
    path = tmp_path / "small.db"
    store = Store.open(path)
    generate(store, HistorySpec(start=time.time() - 2 * 86400, days=2, columns=2, seed=7))
    store.close()
    return path


def test_a_server_echoing_the_credentials_does_not_print_them(tmp_path: Path) -> None:
    """A (broken) server whose 535 reply repeats the password and the AUTH PLAIN token: both are
    masked in the one error line."""

    def echo(server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        token = base64.b64encode(b"\0monitor\0" + SECRET.encode()).decode()
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 no for {data.password.decode()} {token}")

    controller = plain_server(authenticator=echo, auth_require_tls=False)
    try:
        smtp = "security: none, username: monitor, password_env: DIGEST_PW"
        result = run(config(tmp_path, database_for(tmp_path), controller.port, smtp), env={"DIGEST_PW": SECRET})
    finally:
        controller.stop()
    assert result.exit_code == 1 and SECRET not in result.output and "czNjcmV0" not in result.output
    assert "535 5.7.8 no for ******** ********" in result.output
