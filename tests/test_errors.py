"""The one error hierarchy: stable codes, one text table in three languages, one CLI mapping."""

from __future__ import annotations

import inspect
import pkgutil
import re
from importlib import import_module

import pytest

import docservice
import signing
from docservice import cli, cli_errors, error_messages
from docservice.errors import DocserviceError, InputError, UnknownKindError
from docservice.forms.fields import FieldError
from docservice.service.errors import NotFoundError
from docservice.verification.limits import VerificationInputError
from signing.errors import CertificateRevokedError, SigningError, WrongPasswordError
from signing.twophase import SessionError


def _error_classes() -> list[type[DocserviceError]]:
    """Every DocserviceError defined in docservice/ and signing/ (imported to be seen)."""
    for package in (docservice, signing):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" in info.name or info.name.endswith(("__main__", "tasks")):
                continue
            try:
                import_module(info.name)
            except ImportError:  # an optional extra (the emulators' own dependencies)
                continue
    found, todo = [], [DocserviceError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [c for c in found if c.__module__.startswith(("docservice", "signing"))]


def test_every_error_is_one_hierarchy_with_a_text_for_its_code() -> None:
    classes = _error_classes()
    names = {c.__name__ for c in classes}
    assert {
        "SigningError",
        "SessionError",
        "VerificationInputError",
        "ServiceError",
        "InputError",
        "NotFoundError",
    } <= names
    for cls in classes:
        assert re.fullmatch(r"[a-z_]+", cls.code), cls
        assert cls.code in error_messages.MESSAGES or cls.code in error_messages.TITLES, cls
        assert 400 <= cls.status < 600, cls
    for code, texts in {**error_messages.MESSAGES, **error_messages.TITLES}.items():
        assert len(texts) == 3 and all(texts) and len(set(texts)) >= 2, code
        fields = [set(re.findall(r"{(\w+)}", t)) for t in texts]
        assert fields[0] == fields[1] == fields[2], code


def test_a_signing_error_says_itself_in_three_languages() -> None:
    exc = CertificateRevokedError(when="2026-01-02")
    assert exc.code == exc.reason == "certificate_revoked" and exc.status == 422
    assert exc.message("kk") == exc.message_kk == "Сертификат кері қайтарылған (2026-01-02)"
    assert exc.message("ru") == "Сертификат отозван (2026-01-02)"
    assert exc.message("en") == "The certificate is revoked (2026-01-02)"
    assert str(exc) == f"{exc.message_kk} / {exc.message_ru}"
    assert WrongPasswordError.kk == error_messages.MESSAGES["wrong_password"][0]
    assert SessionError().status == 410 and SessionError.reason == "signing_session_invalid"


def test_a_subclass_without_a_text_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="no text"):
        type("Nameless", (SigningError,), {"code": "no_such_code"})


def test_verification_and_service_errors_share_the_base() -> None:
    exc = VerificationInputError("pdf_unreadable", status=422)
    assert isinstance(exc, DocserviceError) and isinstance(exc, ValueError)
    assert exc.message("ru").startswith("Файл: PDF повреждён")
    assert exc.message("en") == "File: the PDF is damaged or truncated and cannot be read."
    assert NotFoundError("no such document").message("kk") == "Табылмады"
    assert UnknownKindError("unknown kind 'x'").message("en") == "No such document kind"


@pytest.mark.parametrize(
    ("exc", "status", "line"),
    [
        (
            WrongPasswordError(),
            2,
            "prog: Кілт контейнерінің құпиясөзі қате / Неверный пароль контейнера ключа",
        ),
        (
            VerificationInputError("too_slow", detail="over 1 s"),
            2,
            "prog: Файл: тексеру уақыт шегінен асып кетті. / "
            "Файл: проверка превысила лимит времени. (over 1 s)",
        ),
        (DocserviceError("x.json: No such file"), 2, "prog: x.json: No such file"),
        (
            FileNotFoundError(2, "No such file or directory", "/no/file"),
            2,
            "prog: /no/file: No such file or directory",
        ),
        (
            RuntimeError("IIN 850301300121"),
            70,
            "prog: internal error (RuntimeError); please report it",
        ),
    ],
)
def test_the_cli_maps_every_error_in_one_place(
    exc: BaseException, status: int, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_errors.fail("prog", exc, "kk+ru") == status
    assert capsys.readouterr().err == line + "\n"


def test_invalid_data_is_one_line_per_field(capsys: pytest.CaptureFixture[str]) -> None:
    exc = InputError(
        [
            FieldError("applicant.iin", "iin_checksum"),
            FieldError("applicant.full_name", "required"),
        ],
        "application",
    )
    assert cli_errors.fail("docservice", exc, "ru") == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(not e.startswith("docservice:") for e in err)
    assert "ИИН" in err[0] or "iin" in err[0].lower()


def test_the_docservice_cli_uses_the_mapping(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused(args: object) -> int:
        raise SessionError("gone")

    monkeypatch.setattr(cli, "cmd_kinds", refused)
    assert cli.main(["kinds"]) == 2
    assert capsys.readouterr().err.strip() == ("docservice: " + SessionError.kk + " (gone)")


def test_no_module_prints_its_own_error_lines() -> None:
    """The CLIs print errors through cli_errors.fail only (one mapping, one format)."""
    from docservice.verification import cli as verify_cli
    from signing import cli as sign_cli

    for module in (cli, sign_cli, verify_cli):
        source = inspect.getsource(module)
        assert "fail(" in source
        assert not re.search(r"except \w*Error as exc:\n\s+print\(", source), module
