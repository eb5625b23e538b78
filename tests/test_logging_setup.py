"""The service's log: JSON lines, library records tamed, personal data masked, request ids."""

from __future__ import annotations

import io
import json
import logging
import warnings
from pathlib import Path

import pytest

from docservice import cli, logging_setup

SUBJECT = (
    "Common Name: ӘБІЛҚАСЫМОВА ГҮЛНАР, Serial Number: IIN850301300121, "
    "E-mail: gulnar.abilkasymova@mail.kz"
)


@pytest.fixture(autouse=True)
def no_log_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own settings must not steer these tests (``tests/conftest.py`` puts
    the root logger back afterwards)."""
    for name in (logging_setup.LOG_FILE_ENV, logging_setup.LOG_LEVEL_ENV):
        monkeypatch.delenv(name, raising=False)


def _records(stream: io.StringIO) -> list[dict]:
    lines = stream.getvalue().splitlines()
    return [json.loads(line) for line in lines]


def test_a_library_error_with_a_stack_is_one_redacted_warning_line() -> None:
    stream = io.StringIO()
    logging_setup.configure("server", stream=stream)
    try:
        raise ValueError(f"bad path\n{SUBJECT}")
    except ValueError as exc:
        logging.getLogger("pyhanko.sign.validation").error(
            f"Failed to build path for {SUBJECT}", exc_info=exc
        )
    text = stream.getvalue()
    assert text.count("\n") == 1 and "Traceback" not in text
    (record,) = _records(stream)
    assert record["level"] == "WARNING" and record["logger"] == "pyhanko.sign.validation"
    assert record["error"].startswith("ValueError at ") and "bad path" not in text
    assert "ӘБІЛҚАСЫМОВА" not in text and "ГҮЛНАР" not in text and "mail.kz" not in text
    assert "850301300121" not in text and "85********21" in record["message"]
    assert record["message"].startswith("Failed to build path for Common Name: <…> <…>,")
    logging.getLogger("werkzeug").error(
        "Error on request:\n%s",
        'Traceback (most recent call last):\n  File "x.py", line 1\nValueError',
    )
    assert _records(stream)[-1]["message"] == "Error on request:"


def test_own_records_keep_their_level_and_mask_any_iin() -> None:
    stream = io.StringIO()
    logging_setup.configure("server", stream=stream)
    logging.getLogger("docservice.verification").error("signer %s", "IIN850301300121")
    logging.getLogger("signing.pdf").info("signed for %s", "ӘБІЛҚАСЫМОВА")
    first, second = _records(stream)
    assert first["level"] == "ERROR" and first["message"] == "signer IIN85********21"
    assert second["level"] == "INFO" and "request_id" not in second


def test_the_cli_on_a_terminal_shows_only_errors_and_never_a_library_record() -> None:
    stream = io.StringIO()
    logging_setup.configure("cli", stream=stream)
    logging.getLogger("pyhanko.sign.diff_analysis").error("Error in diff operation")
    logging.getLogger("docservice.verification").warning("unreadable pdf input")
    logging.getLogger("docservice.cli").error("internal error")
    assert [r["message"] for r in _records(stream)] == ["internal error"]


def test_environment_chooses_file_and_level(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "service.log"
    monkeypatch.setenv(logging_setup.LOG_FILE_ENV, str(log))
    logging_setup.configure("cli")
    logging.getLogger("docservice.verification").info("to the file, at INFO by default")
    logging.getLogger("pyhanko").debug("not at INFO")
    monkeypatch.setenv(logging_setup.LOG_LEVEL_ENV, "debug")
    logging_setup.configure("cli")  # again: replaces the handler, one line per record
    logging.getLogger("pyhanko").debug("now at DEBUG")
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_docservice", False)]
    assert len(ours) == 1
    ours[0].flush()
    lines = log.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["message"] for line in lines] == [
        "to the file, at INFO by default",
        "now at DEBUG",
    ]


def test_an_unusable_log_file_is_one_line_on_stderr(
    tmp_path: Path,
    capsys,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(logging_setup.LOG_FILE_ENV, str(tmp_path / "no" / "such" / "dir.log"))
    logging_setup.configure("cli")
    (line,) = capsys.readouterr().err.splitlines()
    assert json.loads(line)["message"].startswith("DOCSERVICE_LOG_FILE is unusable (")


def test_broken_records_and_python_warnings_stay_one_line(capsys) -> None:  # type: ignore[no-untyped-def]
    # Formatted directly: pytest's own capture handler would raise on the broken record.
    broken = logging.LogRecord(
        "some.library", logging.WARNING, __file__, 1, "%d revisions", ("many",), None
    )
    assert json.loads(logging_setup.JsonLinesFormatter().format(broken))["message"] == (
        "%d revisions"
    )
    stream = io.StringIO()
    logging_setup.configure("server", stream=stream)
    warnings.warn("deprecated\nsecond line", DeprecationWarning, stacklevel=1)
    (record,) = _records(stream)
    assert record["logger"] == "py.warnings" and "DeprecationWarning" in record["message"]
    assert capsys.readouterr().err == ""


def test_request_id_in_records_and_response(monkeypatch: pytest.MonkeyPatch) -> None:
    from docservice.verification import (
        TrustAnchors,
        VerificationInputError,
        Verifier,
        VerifierConfig,
    )
    from docservice.web import create_app
    from tests.pki import stranger_root

    stream = io.StringIO()
    logging_setup.configure("server", stream=stream)
    verifier = Verifier(VerifierConfig(trust=TrustAnchors.from_certificates([stranger_root()])))

    def verify(*args: object, **kwargs: object) -> None:  # a library logs along the way
        logging.getLogger("pyhanko.sign.validation").warning("while verifying")
        raise VerificationInputError("unknown_format", status=415)

    monkeypatch.setattr(verifier, "verify", verify)
    client = create_app({"VERIFIER": verifier}).test_client()
    upload = {"file": (io.BytesIO(b"whatever"), "x.pdf")}
    response = client.post(
        "/v1/verify",
        data=upload,
        headers={"X-Request-ID": "portal-42"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 415 and response.headers["X-Request-ID"] == "portal-42"
    records = _records(stream)
    assert {r.get("request_id") for r in records} == {"portal-42"}
    assert [r["logger"] for r in records] == ["pyhanko.sign.validation", "docservice.web"]
    assert (
        records[1]["message"],
        records[1]["method"],
        records[1]["route"],
        records[1]["status"],
    ) == ("request", "POST", "/v1/verify", 415)
    fresh = client.get("/verify", headers={"X-Request-ID": "not a token; " + "x" * 80})
    assert len(fresh.headers["X-Request-ID"]) == 32
    assert logging_setup.request_id.get() is None


def test_an_unexpected_failure_of_the_cli_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    def broken(args: object) -> int:
        raise RuntimeError("IIN850301300121 in a message")

    monkeypatch.setattr(cli, "cmd_kinds", broken)
    assert cli.main(["kinds"]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" not in err and "850301300121" not in err
    log_line, user_line = err.splitlines()
    assert "internal error in 'kinds': RuntimeError at " in json.loads(log_line)["message"]
    assert user_line == "docservice: internal error (RuntimeError); please report it"
