"""Route definitions: which bodies of which region sign a document, in what order.

A route is data: one YAML file per route in this folder (``application.yaml`` for the
Rules' points 8-14, ``roadmap.yaml`` for point 38). Each step names the body that acts
(a key of the file's ``bodies``), the case's region it acts for (``departure`` or
``settlement``), the NCA RK roles (names of ``docservice.pki.roles.Role``) the signer's
certificate must carry, the working days it has, and, where the Rules allow a return for
revision, the step the return goes back to. The engine (``docservice.service.route``)
reads nothing else, so a new route is a new file.

``DOCSERVICE_ROUTES_DIR`` names an extra folder whose files are added (or replace a
built-in route of the same name).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from docservice.errors import DocserviceError
from docservice.pki.roles import Role

FOLDER = Path(__file__).resolve().parent
ENV_VAR = "DOCSERVICE_ROUTES_DIR"
REGIONS = ("departure", "settlement")


class RouteDefinitionError(DocserviceError, ValueError):
    """A route file is not a valid definition; the message names the file and the field."""


@dataclass(frozen=True)
class Step:
    id: str
    points: tuple[int, ...]
    body: str
    region: str
    roles: tuple[str, ...]
    working_days: int
    title_kk: str
    title_ru: str
    return_to: str | None = None

    def title(self, lang: str) -> str:
        return self.title_ru if lang == "ru" else self.title_kk

    @property
    def role_oids(self) -> frozenset[str]:
        return frozenset(Role(r).oid for r in self.roles)


@dataclass(frozen=True)
class RouteDefinition:
    name: str
    kind: str
    source: str
    title_kk: str
    title_ru: str
    bodies: dict[str, tuple[str, str]]
    steps: tuple[Step, ...]

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def after(self, step_id: str) -> Step | None:
        """The step that follows ``step_id``, None after the last."""
        ids = [s.id for s in self.steps]
        i = ids.index(step_id)
        return self.steps[i + 1] if i + 1 < len(self.steps) else None

    def body_name(self, body: str, lang: str) -> str:
        kk, ru = self.bodies.get(body, (body, body))
        return ru if lang == "ru" else kk


def _texts(raw: Any, where: str) -> tuple[str, str]:
    if not isinstance(raw, dict) or not all(
        isinstance(raw.get(k), str) and raw[k].strip() for k in ("kk", "ru")
    ):
        raise RouteDefinitionError(f"{where}: needs kk and ru texts")
    return raw["kk"], raw["ru"]


def _step(raw: Any, where: str, bodies: dict[str, Any]) -> Step:
    if not isinstance(raw, dict):
        raise RouteDefinitionError(f"{where}: a step is a mapping")
    known = {"id", "points", "body", "region", "roles", "working_days", "title", "return_to"}
    if set(raw) - known:
        raise RouteDefinitionError(f"{where}: unknown keys {sorted(set(raw) - known)}")
    step_id = raw.get("id")
    if not isinstance(step_id, str) or not step_id.isidentifier() or len(step_id) > 30:
        raise RouteDefinitionError(f"{where}.id: an identifier of at most 30 characters")
    if raw.get("body") not in bodies:
        raise RouteDefinitionError(f"{where}.body: not one of the file's bodies")
    if raw.get("region") not in REGIONS:
        raise RouteDefinitionError(f"{where}.region: one of {', '.join(REGIONS)}")
    roles = raw.get("roles")
    if not isinstance(roles, list) or not roles or any(Role.named(r) is None for r in roles):
        raise RouteDefinitionError(f"{where}.roles: a list of {', '.join(Role)}")
    days = raw.get("working_days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 60:
        raise RouteDefinitionError(f"{where}.working_days: an integer from 1 to 60")
    points = raw.get("points", [])
    if not isinstance(points, list) or any(not isinstance(p, int) for p in points):
        raise RouteDefinitionError(f"{where}.points: a list of the Rules' point numbers")
    kk, ru = _texts(raw.get("title"), f"{where}.title")
    return Step(
        id=step_id,
        points=tuple(points),
        body=raw["body"],
        region=raw["region"],
        roles=tuple(roles),
        working_days=days,
        title_kk=kk,
        title_ru=ru,
        return_to=raw.get("return_to"),
    )


def parse(raw: Any, where: str) -> RouteDefinition:
    """A definition from its YAML data; ``where`` names the file in errors."""
    if not isinstance(raw, dict):
        raise RouteDefinitionError(f"{where}: not a mapping")
    for key in ("name", "kind", "source"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise RouteDefinitionError(f"{where}: {key} is required")
    from docservice.forms import all_kinds

    if raw["kind"] not in all_kinds():
        raise RouteDefinitionError(f"{where}: kind {raw['kind']!r} is not a document kind")
    bodies_raw = raw.get("bodies")
    if not isinstance(bodies_raw, dict) or not bodies_raw:
        raise RouteDefinitionError(f"{where}: bodies is required")
    bodies = {name: _texts(texts, f"{where}: bodies.{name}") for name, texts in bodies_raw.items()}
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise RouteDefinitionError(f"{where}: steps is required")
    steps = tuple(_step(s, f"{where}: steps[{i}]", bodies) for i, s in enumerate(steps_raw))
    ids = [s.id for s in steps]
    if len(set(ids)) != len(ids):
        raise RouteDefinitionError(f"{where}: step ids repeat")
    for i, step in enumerate(steps):
        if step.return_to is not None and step.return_to not in ids[:i]:
            raise RouteDefinitionError(f"{where}: steps[{i}].return_to: must name an earlier step")
    kk, ru = _texts(raw.get("title"), f"{where}: title")
    return RouteDefinition(
        name=raw["name"],
        kind=raw["kind"],
        source=raw["source"],
        title_kk=kk,
        title_ru=ru,
        bodies=bodies,
        steps=steps,
    )


def load_file(path: Path) -> RouteDefinition:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RouteDefinitionError(f"{path}: {exc}") from None
    return parse(raw, path.name)


def folders() -> tuple[Path, ...]:
    extra = os.environ.get(ENV_VAR)
    return (FOLDER, Path(extra)) if extra else (FOLDER,)


@cache
def _load(paths: tuple[Path, ...]) -> dict[str, RouteDefinition]:
    found: dict[str, RouteDefinition] = {}
    for folder in paths:
        for path in sorted(folder.glob("*.yaml")):
            definition = load_file(path)
            found[definition.name] = definition
    return found


def definitions() -> dict[str, RouteDefinition]:
    """Every route definition, by name (the package's folder, then ``$DOCSERVICE_ROUTES_DIR``)."""
    return _load(folders())


def get(name: str) -> RouteDefinition:
    try:
        return definitions()[name]
    except KeyError:
        raise KeyError(name) from None
