"""Routes are data: every definition file is loaded and run by the same engine, with no
route-specific code (the roadmap's point 38 is only ``docservice/routes/roadmap.yaml``;
a route in an operator's folder works the same). Deadlines on the Kazakhstan calendar."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from docservice import routes
from docservice.pki.person import person_of
from docservice.routes import RouteDefinition, RouteDefinitionError, parse
from docservice.service.clients import add_client
from docservice.service.documents import DocService
from docservice.service.keys import add_key
from docservice.service.route import RouteError, add_org, due_on
from tests.conftest import example
from tests.pki import TestPki

SQLITE = pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
#: The test PKI's officials and the NCA role each one's certificate carries.
OFFICIALS = ("career", "head", "akimat", "hr")


def _official_for(step: routes.Step, pki: TestPki) -> str:
    for label in OFFICIALS:
        if step.role_oids & {r.oid for r in person_of(pki.cert(label)).held_roles}:
            return label
    raise AssertionError(f"no test official holds a role of step {step.id}")


def run_route(
    service: DocService, pki: TestPki, password_file: Path, definition: RouteDefinition
) -> list[str]:
    """Create a case and a document of the route's kind, sign every step with an official
    whose role fits (directory entries made from the file), returning once at the first
    step that allows it; the events' actions in order."""
    signed: list[str] = []  # the revisions a server key signed
    sign_revision = service._sign_revision

    def counted(pdf_sha, row):  # type: ignore[no-untyped-def]
        signed.append(pdf_sha)
        return sign_revision(pdf_sha, row)

    service._sign_revision = counted  # type: ignore[method-assign]
    with service.db.session() as session:
        client, _ = add_client(session, f"c-{definition.name}", ["render", "sign"])
        for label in OFFICIALS:
            add_key(
                session, f"{definition.name}-{label}", pki.p12(label), password_file, [client.name]
            )
        regions = {"departure": "Region A", "settlement": "Region B"}
        for step in definition.steps:
            ident = person_of(pki.cert(_official_for(step, pki)))
            add_org(session, ident.bin, step.body, regions[step.region])
    service.create_case(client, f"CASE-{definition.name}", "Region A", "Region B")
    doc = service.create_document(
        client,
        definition.kind,
        "kk",
        example(definition.kind),
        case_ref=f"CASE-{definition.name}",
        route=definition.name,
    )
    returned = False
    while True:
        view = service.route_view(client, doc.id)
        if view["state"] == "done":
            break
        step = definition.step(view["step"]["id"])
        label = f"{definition.name}-{_official_for(step, pki)}"
        if step.return_to and not returned:
            service.return_with_key(client, doc.id, label, f"remarks at {step.id}")
            assert service.route_view(client, doc.id)["step"]["id"] == step.return_to
            doc = service.revise(client, doc.id, example(definition.kind))
            returned = True
            continue
        # An official whose role does not fit is refused, naming the step.
        wrong = next(
            (
                o
                for o in OFFICIALS
                if not step.role_oids & {r.oid for r in person_of(pki.cert(o)).held_roles}
            ),
            None,
        )
        if wrong is not None:
            before = len(signed)
            with pytest.raises(RouteError) as refused:
                service.sign_with_key(client, doc.id, f"{definition.name}-{wrong}")
            assert step.title_ru in refused.value.ru and step.title_kk in refused.value.kk
            assert len(signed) == before  # refused before any signature was made
        service.sign_with_key(client, doc.id, label)
    events = service.route_view(client, doc.id)["events"]
    assert any(e["action"] == "returned" for e in events) == any(
        s.return_to for s in definition.steps
    )
    return [e["action"] for e in events]


@SQLITE
@pytest.mark.parametrize("name", sorted(routes.definitions()))
def test_every_route_file_runs_on_the_one_engine(
    name: str, service: DocService, pki: TestPki, password_file: Path
) -> None:
    definition = routes.definitions()[name]
    actions = run_route(service, pki, password_file, definition)
    assert actions[0] == "started" and actions[-1] == "completed"
    assert actions.count("signed") >= len(definition.steps)


def test_the_package_folder_holds_the_application_and_a_second_route() -> None:
    found = routes.definitions()
    assert {"application", "roadmap"} <= set(found)
    app = found["application"]
    assert [s.id for s in app.steps] == ["p8", "p9", "p10", "p13", "p14"]
    assert [s.working_days for s in app.steps] == [1, 1, 1, 1, 3]
    assert {s.id: s.return_to for s in app.steps if s.return_to} == {"p9": "p8", "p13": "p8"}
    assert [s.region for s in app.steps] == ["departure"] * 3 + ["settlement"] * 2


@SQLITE
def test_a_route_in_the_operators_folder_needs_no_code(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    service: DocService,
    pki: TestPki,
    password_file: Path,
) -> None:
    folder = tmp_path / "routes"
    folder.mkdir()
    (folder / "direction.yaml").write_text(
        "name: direction_check\nkind: direction\nsource: an operator's own route\n"
        "title: {kk: Жолдама, ru: Направление}\n"
        "bodies: {career_centre: {kk: мансап орталығы, ru: карьерный центр}}\n"
        "steps:\n"
        "  - {id: draft, body: career_centre, region: settlement, roles: [employee],\n"
        "     working_days: 2, title: {kk: Қызметкер, ru: Сотрудник}}\n"
        "  - {id: check, body: career_centre, region: settlement, roles: [hr],\n"
        "     working_days: 1, return_to: draft, title: {kk: Кадр, ru: Кадры}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(routes.ENV_VAR, str(folder))
    definition = routes.definitions()["direction_check"]
    assert run_route(service, pki, password_file, definition) == [
        "started",
        "signed",
        "returned",
        "revised",
        "signed",
        "signed",
        "completed",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "steps": [
                    {
                        "id": "a",
                        "body": "x",
                        "region": "settlement",
                        "roles": ["employee"],
                        "working_days": 1,
                        "title": {"kk": "a", "ru": "a"},
                    }
                ]
            },
            "body",
        ),
        ({"kind": "no_such_kind"}, "not a document kind"),
        (
            {
                "steps": [
                    {
                        "id": "a",
                        "body": "career_centre",
                        "region": "moon",
                        "roles": ["employee"],
                        "working_days": 1,
                        "title": {"kk": "a", "ru": "a"},
                    }
                ]
            },
            "region",
        ),
        (
            {
                "steps": [
                    {
                        "id": "a",
                        "body": "career_centre",
                        "region": "settlement",
                        "roles": ["pope"],
                        "working_days": 1,
                        "title": {"kk": "a", "ru": "a"},
                    }
                ]
            },
            "roles",
        ),
        (
            {
                "steps": [
                    {
                        "id": "a",
                        "body": "career_centre",
                        "region": "settlement",
                        "roles": ["employee"],
                        "working_days": 1,
                        "return_to": "a",
                        "title": {"kk": "a", "ru": "a"},
                    }
                ]
            },
            "earlier step",
        ),
    ],
)
def test_a_bad_definition_is_refused_naming_the_field(change: dict, message: str) -> None:
    good = {
        "name": "r",
        "kind": "direction",
        "source": "s",
        "title": {"kk": "a", "ru": "a"},
        "bodies": {"career_centre": {"kk": "a", "ru": "a"}},
        "steps": [
            {
                "id": "a",
                "body": "career_centre",
                "region": "settlement",
                "roles": ["employee"],
                "working_days": 1,
                "title": {"kk": "a", "ru": "a"},
            }
        ],
    }
    parse(good, "good.yaml")
    with pytest.raises(RouteDefinitionError, match=message):
        parse({**good, **change}, "bad.yaml")


def test_deadlines_count_kazakhstan_working_days() -> None:
    app = routes.get("application")
    almaty = dt.timezone(dt.timedelta(hours=5))
    # Friday 20 March 2026, then Nauryz (21-23 March, days off to the 25th): point 14's
    # three working days are 26, 27 and 30 March.
    assert due_on(app.step("p14"), dt.datetime(2026, 3, 20, 10, tzinfo=almaty)) == dt.date(
        2026, 3, 30
    )
    # One working day from Friday 11 December 2026 is Monday the 14th; from Tuesday
    # 15 December it is the 17th (Independence Day, the 16th, is off).
    assert due_on(app.step("p8"), dt.datetime(2026, 12, 11, 17, tzinfo=almaty)) == dt.date(
        2026, 12, 14
    )
    assert due_on(app.step("p8"), dt.datetime(2026, 12, 15, 9, tzinfo=almaty)) == dt.date(
        2026, 12, 17
    )
    # The day is Kazakhstan's: 20:30 UTC on Monday is already Tuesday in Astana.
    assert due_on(app.step("p8"), dt.datetime(2026, 12, 14, 20, 30, tzinfo=dt.UTC)) == dt.date(
        2026, 12, 17
    )
