"""The whole test run's logs hold no unmasked IIN and no test person's name (issue 8).

A pytest plugin (registered by ``tests/conftest.py``; ``-p tests.logscan`` elsewhere):

* At start it makes a session directory and sets ``$DOCSERVICE_LOG_COPY_DIR`` to it, so every
  process the tests start (servers, workers, CLIs: they inherit the environment) and every
  :func:`docservice.logging_setup.configure` in this process copies each line it writes
  there. A handler on the root logger adds, formatted by the service's own formatter, the
  records this process logs while no service handler is installed (in-process apps).
* At the end it collects every IIN the tests use (12-digit numbers that are IINs, i.e. whose
  first seven digits are a date of birth, in the sources and fixtures under ``tests/``, the
  form data under ``examples/``, the ``SERIALNUMBER`` of the test PKI and of NCA's test
  certificates) and every test person's full name (and "surname name", as certificates put
  it), and searches every collected line for them. A hit fails the run, naming the file
  and line; the directory is then kept for reading.

Under pytest-xdist (``-n``), the workers inherit the directory from the controller's
environment and only write; the controller scans once all workers are done.

The search runs once, after the last test: one pass over the lines, runs of digits and pairs
of words looked up in sets, so it adds about a second to a run (most of it collecting).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from docservice.identifiers import iin_birth_date
from docservice.logging_setup import LOG_COPY_DIR_ENV, JsonLinesFormatter

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DOCSERVICE_SHARED", ROOT.parent / "shared"))
#: Text files under tests/ and examples/ that may hold IINs and names.
SOURCE_SUFFIXES = {".py", ".json", ".yml", ".yaml", ".xml", ".txt", ".csv", ".html", ".js"}

_DIGITS = re.compile(r"\d{12,}")
_TWELVE = re.compile(r"(?<!\d)\d{12}(?!\d)")
_UPPER, _LOWER = "А-ЯЁӘҒҚҢӨҰҮҺІ", "а-яёәғқңөұүһі"
_WORD = f"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}]?[{_LOWER}]+)?"
#: "Surname Name Patronymic" in running text: the third word is a Kazakh or Russian
#: patronymic, which makes the three words a person's name rather than any three words.
_FULL_NAME_IN_TEXT = re.compile(
    rf"(?<![{_UPPER}{_LOWER}])({_WORD})\s+({_WORD})\s+"
    rf"({_WORD}(?:ұлы|улы|қызы|кызы|ович|евич|овна|евна|ична))(?![{_UPPER}{_LOWER}])"
)
#: A JSON string member whose key names a person: "full_name", "head_full_name", ...
_FULL_NAME_MEMBER = re.compile(r'"(\w*full_name)"\s*:\s*"([^"]+)"')
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def is_iin(number: str) -> bool:
    """An IIN rather than a BIN: its first seven digits are a date of birth and century.

    A BIN's fifth digit (4-6, the kind of organisation) makes its "day" 40 or more.
    """
    return len(number) == 12 and iin_birth_date(number) is not None


def _source_files() -> Iterator[Path]:
    for top in (ROOT / "tests", ROOT / "examples"):
        for path in sorted(top.rglob("*")):
            if path.suffix in SOURCE_SUFFIXES and path.is_file() and path != Path(__file__):
                yield path


def _names_in(value: object) -> Iterator[str]:
    """Names in parsed form data: ``*full_name`` members and surname/name/patronymic."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and key.endswith("full_name"):
                yield item
        surname, name = value.get("surname"), value.get("name") or value.get("given_name")
        if isinstance(surname, str) and isinstance(name, str):
            parts = (surname, name, value.get("patronymic"))
            yield " ".join(p for p in parts if isinstance(p, str))
        for item in value.values():
            yield from _names_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _names_in(item)


def _certificate_people() -> Iterator[tuple[str, list[str]]]:
    """(IIN, names) of every person in NCA's test certificates (``../shared/nca-test``)."""
    from asn1crypto import pem, x509

    from signing import _pkcs12
    from tests.gost.nca import PASSWORDS

    folder = SHARED / "nca-test"
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        try:
            data = path.read_bytes()
            if path.suffix == ".p12":
                if path.name not in PASSWORDS:
                    continue
                ders = _pkcs12.read_container(data, PASSWORDS[path.name])[1]
            elif path.suffix in (".cer", ".crt"):
                ders = [pem.unarmor(data)[2] if pem.detect(data) else data]
            else:
                continue
            for der in ders:
                subject = x509.Certificate.load(der).subject.native
                serial = str(subject.get("serial_number", ""))
                if serial.startswith("IIN"):
                    yield (
                        serial[3:],
                        (str(subject.get("common_name", "")), str(subject.get("given_name", ""))),
                    )
        except Exception:  # a file that is not a certificate: not a person
            continue


#: (first word, second word) -> [(all words, the name as the tests write it)], case-folded.
NameIndex = dict[tuple[str, str], list[tuple[tuple[str, ...], str]]]


@dataclass(frozen=True)
class Secrets:
    """What must never appear unmasked in a log."""

    iins: frozenset[str]
    names: tuple[str, ...]

    def name_index(self) -> NameIndex:
        """Names by their first two words, case-folded: one look-up per pair of words."""
        index: NameIndex = {}
        for name in self.names:
            words = tuple(_words(name))
            if len(words) >= 2:
                index.setdefault(words[:2], []).append((words, name))
        for found in index.values():
            found.sort(key=lambda item: len(item[0]), reverse=True)  # the full name first
        return index


_LETTERS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _words(text: str) -> list[str]:
    return _LETTERS.findall(text.casefold())


def _add_name(names: set[str], name: str) -> None:
    words = name.split()
    if len(words) >= 2:  # a lone surname or first name is too common a word to search for
        names.add(" ".join(words))
        names.add(" ".join(words[:2]))  # the CN of an NCA certificate: "SURNAME NAME"


def collect_secrets() -> Secrets:
    """Every IIN and person's name the tests use (see the module's docstring)."""
    iins: set[str] = set()
    names: set[str] = set()
    for path in _source_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        iins.update(n for n in _TWELVE.findall(text) if is_iin(n))
        for match in _FULL_NAME_IN_TEXT.finditer(text):
            _add_name(names, " ".join(match.groups()))
        for match in _FULL_NAME_MEMBER.finditer(text):
            _add_name(names, match.group(2))
        if path.suffix == ".json":
            try:
                for name in _names_in(json.loads(text)):
                    _add_name(names, name)
            except ValueError:
                pass
        if path.suffix in (".yml", ".yaml", ".py"):
            _add_pki_people(text, iins, names)
    for iin, (common_name, given) in _certificate_people():
        iins.add(iin)
        _add_name(names, common_name)
        _add_name(names, f"{common_name} {given}")  # NCA: GIVENNAME is the patronymic
    return Secrets(frozenset(iins), tuple(sorted(names)))


_COMMON_NAME = re.compile(r"common[-_]name['\"]?\s*:\s*['\"]([^'\"]+)['\"]")
_SERIAL_IIN = re.compile(r"serial[-_]number['\"]?\s*:\s*['\"]IIN(\d{12})['\"]")
_GIVEN_NAME = re.compile(r"given[-_]name['\"]?\s*:\s*['\"]([^'\"]+)['\"]")


def _add_pki_people(text: str, iins: set[str], names: set[str]) -> None:
    """tests/pki: each entity (YAML) or Leaf (Python) whose SERIALNUMBER is an IIN."""
    starts = list(_COMMON_NAME.finditer(text))
    ends = [m.start() for m in starts[1:]] + [len(text)]
    for this, end in zip(starts, ends[: len(starts)], strict=True):
        entity = text[this.end() : end][:600]
        serial = _SERIAL_IIN.search(entity)
        if serial is None:  # a CA, a TSA, an OCSP responder: not a person
            continue
        iins.add(serial.group(1))
        _add_name(names, this.group(1))
        if given := _GIVEN_NAME.search(entity):  # NCA: GIVENNAME is the patronymic
            _add_name(names, f"{this.group(1)} {given.group(1)}")


@dataclass(frozen=True)
class Hit:
    path: Path
    line: int
    what: str  # "IIN 850301300121" or "name ӘБІЛҚАСЫМОВА ГҮЛНАР"
    text: str

    def __str__(self) -> str:
        shown = self.text if len(self.text) <= 200 else self.text[:199] + "…"
        return f"{self.path}:{self.line}: unmasked {self.what}: {shown}"


def scan_lines(
    path: Path, lines: Iterable[str], secrets: Secrets, names: NameIndex
) -> Iterator[Hit]:
    for number, line in enumerate(lines, 1):
        # A writer other than ours may escape non-ASCII text in JSON (\u0410...).
        plain = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), line)
        for run in _DIGITS.findall(plain):  # an IIN glued to other digits counts too
            for i in range(len(run) - 11):
                if run[i : i + 12] in secrets.iins:
                    yield Hit(path, number, f"IIN {run[i : i + 12]}", line.rstrip("\n"))
        words = _words(plain)
        for i in range(len(words) - 1):
            for name, written in names.get((words[i], words[i + 1]), ()):
                if tuple(words[i : i + len(name)]) == name:
                    yield Hit(path, number, f"name {written}", line.rstrip("\n"))
                    break


def scan(folder: Path, secrets: Secrets) -> list[Hit]:
    """Every unmasked IIN or name in the files of ``folder``."""
    names = secrets.name_index()
    hits: list[Hit] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        with path.open(encoding="utf-8", errors="replace") as lines:
            hits.extend(scan_lines(path, lines, secrets, names))
    return hits


class _InProcessCopy(logging.Handler):
    """Records this process logs, as the service's formatter would write them."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.setFormatter(JsonLinesFormatter())
        self.stream = path.open("a", encoding="utf-8")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + "\n")
            self.stream.flush()
        except Exception:  # a log copy must never fail a test
            self.handleError(record)

    def close(self) -> None:
        self.stream.close()
        super().close()


_STATE: dict[str, object] = {}


def _is_xdist_worker(config: pytest.Config) -> bool:
    """A pytest-xdist worker: it writes into the controller's directory, never scans it."""
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    given = os.environ.get(LOG_COPY_DIR_ENV)
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="docservice-test-logs-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[LOG_COPY_DIR_ENV] = str(folder)
    handler = _InProcessCopy(folder / f"pytest-{os.getpid()}.jsonl")
    logging.getLogger().addHandler(handler)
    _STATE.update(folder=folder, keep=bool(given), handler=handler, previous=given)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    folder = _STATE.get("folder")
    if not isinstance(folder, Path):
        return
    handler = _STATE["handler"]
    assert isinstance(handler, logging.Handler)
    logging.getLogger().removeHandler(handler)
    handler.close()
    if _is_xdist_worker(session.config):
        # Under pytest-xdist the controller started the workers with the directory in their
        # environment and scans it once after all of them have finished; a worker scanning
        # too would read the others' logs half-written, and remove the directory.
        return
    secrets = collect_secrets()
    hits = scan(folder, secrets)
    lines = sum(p.read_bytes().count(b"\n") for p in folder.rglob("*") if p.is_file())
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")

    def write(text: str, **markup: bool) -> None:
        if reporter is not None:
            reporter.write_line(text, **markup)
        else:
            print(text)

    write("")  # off the line of progress dots

    if hits:
        write(
            f"logs of this run ({folder}): {len(hits)} unmasked IIN or name "
            f"({len(secrets.iins)} IINs and {len(secrets.names)} names searched):",
            red=True,
        )
        for hit in hits[:50]:
            write(f"  {hit}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    write(
        f"logs of this run: {lines} lines, no unmasked IIN or name "
        f"({len(secrets.iins)} IINs and {len(secrets.names)} names searched)"
    )
    if not _STATE["keep"]:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    previous = _STATE.get("previous")
    if isinstance(previous, str):
        os.environ[LOG_COPY_DIR_ENV] = previous
    else:
        os.environ.pop(LOG_COPY_DIR_ENV, None)
