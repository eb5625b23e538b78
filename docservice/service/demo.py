"""``docservice demo --out DIR``: the whole service, end to end, on the embedded default.

It builds the demo PKI (``demo_pki``: a root, its OCSP responder, a TSA and the officials
of a case's route, served on loopback), registers a client system, the officials' keys
and the organisations directory as an operator would, starts ``docservice serve``
(gunicorn) on a free loopback port with B-LT signatures, and then acts as the client
system over real HTTP:

* a family's case (``POST /v1/cases``): the application through every step of its route
  (Rules points 8-14), returned once for revision with remarks and signed again as a new
  version; then two individual plans, the road map (its three copies, approved along the
  point 38 route), a direction, an activity report and the month's Appendix 3 report
  built from it, all signed with server keys;
* as an auditor (``audit`` scope): the case's chain, its bundle (``DIR/case-bundle.zip``)
  and the ДДК of each signed document taken from it (``DIR/cards/*.pdf``);
* every document kind once more, outside the case, signed by two officials in turn.

After the service has stopped, the bundle is verified offline with the function behind
``docservice audit verify-bundle``. DIR/README.txt says what each file is.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from docservice.archive.bundle import verify_bundle
from docservice.forms import all_kinds
from docservice.resources import data_dir
from docservice.service import demo_pki
from docservice.service.demo_pki import OFFICIALS

LANG = "kk+ru"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Http:
    def __init__(self, base: str, key: str) -> None:
        self.base, self.key = base, key

    def call(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str | None = None,
    ) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {self.key}", "Accept-Language": "en"}
        data = raw
        if payload is not None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
            headers["Idempotency-Key"] = secrets.token_hex(8)
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def json(self, method: str, path: str, payload: Any = None, expect: int = 200) -> Any:
        status, body = self.call(method, path, payload)
        if status != expect:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {body[:500]!r}")
        return json.loads(body)


def _multipart(field: str, name: str, data: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{name}"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _wait_for_url(proc: subprocess.Popen[str], timeout: float = 60) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the service stopped during start-up (see its log above)")
        if "verification page on" in line:
            return line.rsplit(" ", 1)[-1].strip().removesuffix("/verify")
    raise RuntimeError("the service did not start in time")


def run_demo(out: Path) -> int:
    """Run the demo into ``out``: 0 when everything verified, 1 when not, 2 when ``out``
    already holds a run (its database would refuse the demo's client and case)."""
    started = time.monotonic()
    out = out.resolve()
    if (out / "var").exists():
        print(
            f"docservice: {out} already holds a demo run; give an empty or new folder",
            file=sys.stderr,
        )
        return 2
    for sub in ("documents", "case", "cards", "trust", "audit-trust"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    with (
        demo_pki.running(out / "pki", secrets.token_urlsafe(12)) as pki,
        open(out / "service.log", "w", encoding="utf-8") as service_log,
    ):
        (out / "trust" / "demo-root.pem").write_bytes(pki.root_pem.read_bytes())
        (out / "audit-trust" / "demo-root.pem").write_bytes(pki.root_pem.read_bytes())
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
        env.update(
            DOCSERVICE_DATA_DIR=str(out / "var"),
            DOCSERVICE_PUBLIC_URL=base_url,
            DOCSERVICE_TRUST_DIR=str(out / "trust"),
            DOCSERVICE_TSA_URL=pki.tsa_url,
            DOCSERVICE_PADES_LEVEL="B-LT",
        )
        key = _register(env, pki, out / "organisations.yaml")
        print(f"demo: starting the service on {base_url}", flush=True)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "docservice",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--threads",
                "8",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=service_log,
            text=True,
        )
        try:
            http = _Http(_wait_for_url(proc), key)
            case = _run_case(http, out)
            rows = _every_kind(http, out / "documents")
        except (RuntimeError, OSError) as exc:
            print(
                f"demo: failed: {exc} (the service's log: {out / 'service.log'})", file=sys.stderr
            )
            return 1
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    hits = dict(pki.hits)
    print(
        "demo: the service is stopped; verifying the bundle offline "
        "(docservice audit verify-bundle)",
        flush=True,
    )
    report = verify_bundle(out / "case-bundle.zip", out / "audit-trust")
    for note in report.notes:
        print(f"demo: note: {note}")
    for problem in report.problems:
        print(f"demo: NOT INTACT: {problem}")
    verdict = (
        f"intact: {report.items} entries, {report.cards} cards, proofs verified"
        if report.intact
        else f"NOT INTACT ({len(report.problems)} problems)"
    )
    elapsed = time.monotonic() - started
    _write_readme(out, case, rows, verdict, hits, base_url, elapsed)
    for kind, result, _ in rows:
        print(f"demo: {kind:22} signed twice, {result}")
    print(f"demo: case bundle {verdict}")
    print(f"demo: done in {elapsed:.1f} s; see {out / 'README.txt'}")
    ok = (
        report.intact
        and all(v == "TOTAL_PASSED" for _, v, _ in rows)
        and all(v == "TOTAL_PASSED" for v in case.verdicts.values())
        and not case.missing
    )
    return 0 if ok else 1


#: Settings of the caller's environment that would take the demo off the embedded default.
_FOREIGN = (
    "DOCSERVICE_DATABASE_URL",
    "DOCSERVICE_BROKER_URL",
    "DOCSERVICE_OFFLINE",
    "DOCSERVICE_ROUTES_DIR",
    "DOCSERVICE_SEAL_KEY",
    "DOCSERVICE_INDEX_KEY",
    "DOCSERVICE_RATE_LIMIT_STORAGE",
)


def _register(env: dict[str, str], pki: demo_pki.DemoPki, orgs_file: Path) -> str:
    """Operator steps, in this process: what ``docservice clients add``, ``keys add`` and
    ``orgs load organisations.yaml`` do."""
    from docservice.service.clients import add_client
    from docservice.service.config import from_env
    from docservice.service.db import Database
    from docservice.service.keys import add_key
    from docservice.service.route import load_orgs

    entries = []
    for official in OFFICIALS:
        for body, side in official.acts_for:
            entries.append(
                {
                    "bin": official.bin,
                    "body": body,
                    "region": DEPARTURE if side == "departure" else SETTLEMENT,
                    "name": official.organisation,
                }
            )
    orgs_file.write_text(
        "# The demo's organisations directory (docservice orgs load organisations.yaml):\n"
        "# which organisation (BIN) acts for which body of which region.\n"
        + yaml.safe_dump({"organisations": entries}, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    db = Database(from_env(env))
    with db.session() as session:
        _, key = add_client(session, "demo-portal", ["render", "sign", "verify", "audit"])
        for official in OFFICIALS:
            add_key(
                session, official.label, pki.p12[official.label], pki.password_file, ["demo-portal"]
            )
        load_orgs(session, orgs_file)
    db.dispose()
    return key


DEPARTURE, SETTLEMENT = "Түркістан облысы", "Абай облысы"
CASE_REF = "DEMO-CASE-1"
A3_REGION, A3_MONTH = "Абай облысы, Аягөз ауданы", "2026-11"
SETTLEMENT_CENTRE = "Аягөз ауданының мансап орталығы"


@dataclass
class CaseRun:
    """What the case part of the demo did and made."""

    case_id: str = ""
    steps: list[str] = field(default_factory=list)
    #: file stem in case/ -> verdict of POST /v1/verify
    verdicts: dict[str, str] = field(default_factory=dict)
    cards: list[str] = field(default_factory=list)
    #: documents whose card the bundle could not hold, with the reason
    missing: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    def say(self, step: str) -> None:
        """Record a step for README.txt and show it now (the demo's progress)."""
        self.steps.append(step)
        print(f"demo: {step}", flush=True)


def _example(kind: str) -> dict[str, Any]:
    return json.loads((data_dir("examples") / f"{kind}.json").read_text(encoding="utf-8"))


def _sign(http: _Http, doc: dict[str, Any], label: str) -> dict[str, Any]:
    return http.json("POST", f"/v1/documents/{doc['id']}/signatures", {"key": label}, 201)[
        "document"
    ]


def _route(http: _Http, doc: dict[str, Any]) -> dict[str, Any]:
    return http.json("GET", f"/v1/documents/{doc['id']}/route")


def _along(http: _Http, run: CaseRun, doc: dict[str, Any], labels: tuple[str, ...]) -> None:
    """Sign at each step in turn, checking that the route moved on."""
    for label in labels:
        before = _route(http, doc)["step"]
        _sign(http, doc, label)
        after = _route(http, doc)
        run.say(
            f"{doc['kind']} v{doc['version']}: step {before['id']} "
            f"({_points(before['points'])}, {before['region']}) signed by {label} -> "
            f"{after['step']['id'] if after['step'] else after['state']}"
        )


def _points(points: list[int]) -> str:
    return ("point " if len(points) == 1 else "points ") + ", ".join(map(str, points))


def _run_case(http: _Http, out: Path) -> CaseRun:
    """A family's case from the application to the monthly report (Rules points 8-39)."""
    run = CaseRun()
    case = http.json(
        "POST",
        "/v1/cases",
        {"case_ref": CASE_REF, "departure_region": DEPARTURE, "settlement_region": SETTLEMENT},
        201,
    )
    run.case_id = case["id"]
    # The application (points 8-14), first without the children's birth certificates.
    data = _example("application")
    first = {
        **data,
        "attachments": [a for a in data["attachments"] if a["document"] != "birth_certificates"],
    }
    v1 = http.json(
        "POST",
        "/v1/documents",
        {
            "kind": "application",
            "lang": LANG,
            "data": first,
            "case_ref": CASE_REF,
            "route": "application",
        },
        201,
    )
    _along(http, run, v1, ("dep-career",))
    remarks = (
        "Балалардың туу туралы куәліктерінің көшірмелері қоса берілмеген. / "
        "Не приложены копии свидетельств о рождении детей."
    )
    http.json(
        "POST",
        f"/v1/documents/{v1['id']}/route/return",
        {"key": "dep-mobility-head", "remarks": remarks},
        201,
    )
    run.say(
        f"application v1: step p9 (point 9) returned by dep-mobility-head to p8 "
        f"with remarks: {remarks}"
    )
    v2 = http.json("POST", f"/v1/documents/{v1['id']}/revisions", {"data": data}, 201)
    run.say(f"application v2: a new version (previous {v1['id']}), the birth certificates attached")
    _along(
        http,
        run,
        v2,
        ("dep-career", "dep-mobility-head", "dep-akimat", "set-akimat", "set-mobility"),
    )
    # What the settled family gets: individual plans, the road map (three copies, approved
    # along the roadmap route of point 38), a direction and the month's Appendix 3 report.
    plan = {**_example("individual_plan"), "region": SETTLEMENT, "career_center": SETTLEMENT_CENTRE}
    spouse = plan["members"][0]
    second = {
        **plan,
        "number": f"{plan['number']}-2",
        "members": [],
        "kandas": {k: v for k, v in spouse.items() if k != "kinship"},
    }
    for number, plan_data in enumerate((plan, second), start=1):
        _signed_by(
            http,
            run,
            _create(http, "individual_plan", plan_data),
            ("set-career", "set-career-head"),
            f"individual_plan {number}",
        )
    roadmap = http.json(
        "POST",
        "/v1/documents",
        {
            "kind": "roadmap",
            "lang": LANG,
            "data": _example("roadmap"),
            "case_ref": CASE_REF,
            "route": "roadmap",
        },
        201,
    )
    _along(http, run, roadmap, ("set-career", "rural-akim"))
    for kind in ("direction", "activity_report"):
        _signed_by(http, run, _create(http, kind, _example(kind)), ("set-career",), kind)
    a3 = http.json(
        "POST",
        "/v1/reports/a3",
        {
            "region": A3_REGION,
            "month": A3_MONTH,
            "issue_date": "2026-12-03",
            "lang": LANG,
            "prepared_by": {
                "full_name": "Тоқтарова Әсем Жұмабайқызы",
                "position": "мансап орталығының бас маманы",
            },
            "case_ref": CASE_REF,
        },
        201,
    )
    _signed_by(
        http,
        run,
        a3,
        ("set-career", "set-career-head"),
        f"report_a3 {A3_MONTH} of {A3_REGION} (built from the month's activity reports)",
    )
    _fetch_case(http, run, out)
    return run


def _signed_by(
    http: _Http, run: CaseRun, doc: dict[str, Any], labels: tuple[str, ...], what: str
) -> None:
    """A document on no route: the officials sign it in turn."""
    for label in labels:
        _sign(http, doc, label)
    run.say(f"{what}: signed by {' and '.join(labels)}")


def _create(http: _Http, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return http.json(
        "POST",
        "/v1/documents",
        {"kind": kind, "lang": LANG, "data": data, "case_ref": CASE_REF},
        201,
    )


def _save(http: _Http, doc: dict[str, Any], folder: Path, stem: str) -> str:
    """The document's PDF, XML, each signature's CMS, its view and a verification report."""
    _, pdf = http.call("GET", f"/v1/documents/{doc['id']}/pdf")
    _, xml = http.call("GET", f"/v1/documents/{doc['id']}/xml")
    (folder / f"{stem}.pdf").write_bytes(pdf)
    (folder / f"{stem}.xml").write_bytes(xml)
    for n in range(1, doc["signature_count"] + 1):
        _, cms = http.call("GET", f"/v1/documents/{doc['id']}/signatures/{n}")
        (folder / f"{stem}.signer{n}.p7s").write_bytes(cms)
    (folder / f"{stem}.document.json").write_text(
        json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    if not doc["signature_count"]:
        return "unsigned"
    body, ctype = _multipart("file", f"{stem}.pdf", pdf)
    status, report = http.call("POST", "/v1/verify", raw=body, content_type=ctype)
    if status != 200:
        raise RuntimeError(f"POST /v1/verify: HTTP {status}")
    (folder / f"{stem}.verification.json").write_bytes(report)
    return str(json.loads(report)["verdict"])


def _fetch_case(http: _Http, run: CaseRun, out: Path) -> None:
    """The case as its client sees it, then as an auditor: chain, bundle and the cards."""
    case = http.json("GET", f"/v1/cases/{run.case_id}")
    (out / "case" / "case.json").write_text(
        json.dumps(case, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    stems = {}
    for number, doc in enumerate(case["documents"], start=1):
        stem = f"{number:02d}-{doc['kind']}-v{doc['version']}"
        stems[doc["id"]] = stem
        run.verdicts[stem] = _save(
            http, http.json("GET", f"/v1/documents/{doc['id']}"), out / "case", stem
        )
    run.events = [
        f"{r['route']}: "
        + ", ".join(
            f"{e['action']}" + (f" {e['step']}" if e["step"] else "") + f" v{e['version']}"
            for e in r["events"]
        )
        for r in case["routes"]
    ]
    chain = http.json("GET", f"/v1/cases/{run.case_id}/chain")
    (out / "case-chain.json").write_text(
        json.dumps(chain, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    status, bundle = http.call("GET", f"/v1/cases/{run.case_id}/bundle")
    if status != 200:
        raise RuntimeError(f"GET /v1/cases/{run.case_id}/bundle: HTTP {status}")
    (out / "case-bundle.zip").write_bytes(bundle)
    status, seal_key = http.call("GET", "/v1/archive/key")
    if status != 200:
        raise RuntimeError(f"GET /v1/archive/key: HTTP {status}")
    (out / "audit-trust" / "seal-key.pem").write_bytes(seal_key)
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        for card in manifest["cards"]:
            stem = stems.get(card["document_id"], card["document_id"])
            if card["card"] is None:
                run.missing.append(f"{stem}: {card.get('reason')}")
                continue
            (out / "cards" / f"{stem}.pdf").write_bytes(zf.read(card["card"]))
            run.cards.append(f"{stem}.pdf")
    for missing in run.missing:
        print(f"demo: NO CARD for {missing}")


def _every_kind(http: _Http, docs: Path) -> list[tuple[str, str, str]]:
    """Every kind once (outside the case), signed by two officials in turn."""
    rows = []
    for kind in all_kinds():
        doc = http.json(
            "POST",
            "/v1/documents",
            {"kind": kind, "lang": LANG, "data": _example(kind), "case_ref": "DEMO-KINDS"},
            201,
        )
        for label in ("dep-career", "dep-mobility-head"):
            _sign(http, doc, label)
        final = http.json("GET", f"/v1/documents/{doc['id']}")
        rows.append((kind, _save(http, final, docs, kind), final["links"]["verify"]))
    return rows


def _write_readme(
    out: Path,
    case: CaseRun,
    rows: list[tuple[str, str, str]],
    verdict: str,
    hits: dict[str, int],
    base_url: str,
    elapsed: float,
) -> None:
    lines = [
        "docservice demo",
        "===============",
        "",
        f"The service ran on {base_url} (embedded default: SQLite, local files, jobs in",
        "process) and this demo acted as a client system over HTTP. The demo's own PKI",
        "(pki/) answered OCSP, CRL and time-stamp requests on loopback "
        f"({hits.get('ocsp', 0)} OCSP, {hits.get('crl', 0)} CRL, {hits.get('tsa', 0)} TSA),",
        "so every signature is PAdES B-LT: time-stamped, with revocation data in the PDF.",
        f"It took {elapsed:.0f} s.",
        "",
        f"1. A family's case ({CASE_REF}: departure {DEPARTURE}, settlement {SETTLEMENT}),",
        "   POST /v1/cases, then each document signed with server keys by the officials",
        "   the route of the Rules names (organisations.yaml says which BIN acts for which",
        "   body of which region; pki/*.p12 carry their IIN, BIN and NCA role):",
        "",
    ]
    for step in case.steps:
        lines += textwrap.wrap(step, 88, initial_indent="   ", subsequent_indent="       ")
    lines += ["", "   Route events, in order (each is an entry of the case's chain):"]
    for events in case.events:
        lines += textwrap.wrap(events, 88, initial_indent="   ", subsequent_indent="       ")
    lines += [
        "",
        "case/NN-KIND-vN.pdf               each document of the case, every version (PDF/A-3b",
        "                                  with the XML inside and its signatures); the road",
        "                                  map's PDF holds its three copies (point 38)",
        "case/NN-KIND-vN.xml               its XML",
        "case/NN-KIND-vN.signerN.p7s       the detached CMS of each signature",
        "case/NN-KIND-vN.verification.json the report of POST /v1/verify for the PDF",
        "case/NN-KIND-vN.document.json     GET /v1/documents/{id}",
        "case/case.json                    GET /v1/cases/{id}: documents, versions, routes",
        "case-chain.json                   GET /v1/cases/{id}/chain: every artefact, its log",
        "                                  entry and inclusion proof (audit scope)",
        "case-bundle.zip                   GET /v1/cases/{id}/bundle: manifest, artefacts,",
        "                                  reports, route events, proofs, tree heads, ДДК",
        "cards/NN-KIND-vN.pdf              the document card (ДДК) of each signed document,",
        "                                  taken from the bundle: the original first, then one",
        "                                  CMS per signer with time-stamp and OCSP response",
        "audit-trust/                      what an auditor pins: the seal key tree heads are",
        "                                  signed with (GET /v1/archive/key) and the demo root",
        "organisations.yaml                the organisations directory the operator loaded",
        "",
        "Verified offline after the service stopped (docservice audit verify-bundle):",
        f"  {verdict}",
        "Check it again, and each card:",
        f"  docservice audit verify-bundle {out / 'case-bundle.zip'} --trust {out / 'audit-trust'}",
        f"  docservice verify {out / 'cards'}/01-application-v1.pdf --trust {out / 'trust'} "
        "--offline",
        "",
    ]
    if case.missing:
        lines += ["Cards the bundle could not hold:"] + [f"  {m}" for m in case.missing] + [""]
    lines += [
        "2. Every document kind once, outside the case, signed by two officials in turn:",
        "",
        "documents/KIND.pdf                the PDF/A-3b with the XML inside and both signatures",
        "documents/KIND.xml                the document's XML (checked against xsd/KIND.vN.xsd)",
        "documents/KIND.signer1.p7s        the detached CMS of the first official's signature",
        "documents/KIND.signer2.p7s        ... and of the second",
        "documents/KIND.verification.json  the report of POST /v1/verify for the PDF",
        "documents/KIND.document.json      GET /v1/documents/{id}: status, signatures, summary",
        "",
        "pki/                              the demo PKI: root, OCSP responder, officials' .p12,",
        "                                  their password, the CRL (served only while the demo",
        "                                  ran)",
        "trust/demo-root.pem               the trust anchor the service verified against",
        "var/                              the service's database and content-addressed files",
        "service.log                       the service's JSON log (request ids, no personal data)",
        "",
        "Results:",
    ]
    lines += [f"  {stem:30} {verdict_}" for stem, verdict_ in case.verdicts.items()]
    lines += [f"  {kind:30} {verdict_}" for kind, verdict_, _ in rows]
    lines += [
        "",
        "Start the service again on the same data (OCSP, CRL and TSA are then unreachable, so",
        "fresh verifications without --offline say INDETERMINATE for revocation):",
        f"  DOCSERVICE_DATA_DIR={out / 'var'} DOCSERVICE_TRUST_DIR={out / 'trust'} "
        "docservice serve",
        "",
    ]
    (out / "README.txt").write_text("\n".join(lines), encoding="utf-8")
