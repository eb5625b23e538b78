"""The layers depend one way: ``signing/`` (the signature adapter) knows nothing of rendering.

Below both signing and verification sit the shared concepts (``docservice.pki``: roles,
key usage, the subject read as a person, trust anchors; ``docservice.typefaces``): they
import none of ``signing``, ``docservice.rendering`` or ``docservice.verification``, so
either side can call them without pulling in the other. The same two checks hold them.

The adapter signs any PDF, ours or a foreign one; what it shares with the renderer (the
signature area's destination name and hint band) lives in ``docservice.signature_area``,
a module below both. Two checks keep it so: the imports written in every module under
``signing/`` (read with ``ast``, including imports inside functions), and the modules a
fresh interpreter has loaded after importing all of ``signing`` (which catches an import
through a third module).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIGNING = ROOT / "signing"
FORBIDDEN = "docservice.rendering"


def _imported_names(path: Path) -> list[tuple[int, str]]:
    """Every module name ``path`` imports, with the line it is imported on."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append((node.lineno, node.module))
            # ``from docservice import rendering`` names the package as an attribute.
            names += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return names


def _is_rendering(name: str) -> bool:
    return name == FORBIDDEN or name.startswith(FORBIDDEN + ".")


def _modules() -> list[Path]:
    return sorted(SIGNING.rglob("*.py"))


def test_the_ast_reader_sees_every_form_of_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import docservice.rendering.pdf\n"
        "from docservice import rendering\n"
        "def f():\n    from docservice.rendering.pdf import SignaturePlace\n"
        "from docservice.signature_area import SIGNATURE_DEST\n",
        encoding="utf-8",
    )
    found = sorted({line for line, name in _imported_names(sample) if _is_rendering(name)})
    assert found == [1, 2, 4]


def test_no_module_under_signing_imports_rendering() -> None:
    modules = _modules()
    assert len(modules) > 10, "signing/ not found"
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in modules
        for line, name in _imported_names(path)
        if _is_rendering(name)
    ]
    assert offending == []


def _loaded_by_importing(paths: list[Path]) -> list[str]:
    """Every module a fresh interpreter holds after importing the modules at ``paths``."""
    names = [
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in paths
    ]
    program = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n    importlib.import_module(name)\n"
        "print('\\n'.join(sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_importing_all_of_signing_loads_no_rendering_module() -> None:
    loaded = _loaded_by_importing(_modules())
    assert sorted(m for m in loaded if m.startswith(FORBIDDEN)) == []


def test_no_runtime_module_imports_the_test_doubles() -> None:
    """``docservice_testing`` (the NCALayer and eGov mobile emulators) is installed for its
    console scripts; neither the service nor the adapter may import it."""
    modules = sorted((ROOT / "docservice").rglob("*.py")) + _modules()
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in modules
        for line, name in _imported_names(path)
        if name == "docservice_testing" or name.startswith("docservice_testing.")
    ]
    assert offending == []


#: The modules below both signing and verification, and what they must never load.
SHARED = sorted([*(ROOT / "docservice" / "pki").glob("*.py"), ROOT / "docservice" / "typefaces.py"])
ABOVE = ("signing", "docservice.rendering", "docservice.verification")


def _is_above(name: str) -> bool:
    return any(name == top or name.startswith(top + ".") for top in ABOVE)


def test_shared_modules_import_nothing_above_them() -> None:
    assert len(SHARED) >= 5, "docservice/pki or docservice/typefaces.py not found"
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in SHARED
        for line, name in _imported_names(path)
        if _is_above(name)
    ]
    assert offending == []


def test_importing_the_shared_modules_loads_no_layer_above() -> None:
    loaded = _loaded_by_importing(SHARED)
    above = [
        m
        for m in loaded
        if m.split(".")[0] == "signing"
        or m.startswith(("docservice.rendering", "docservice.verification"))
    ]
    assert sorted(above) == []


def test_signing_and_verification_call_the_shared_modules() -> None:
    """Each concept has one home: no copy of it left on either side."""
    uses = {
        "signing/keys.py": ["docservice.pki.key_usage", "docservice.pki.person"],
        "signing/stamp.py": ["docservice.pki.person", "docservice.typefaces"],
        "signing/trust.py": ["docservice.pki.anchors"],
        "docservice/verification/certs.py": [
            "docservice.pki.key_usage",
            "docservice.pki.person",
            "docservice.pki.roles",
            "docservice.pki.anchors",
        ],
        "docservice/verification/receipt.py": ["docservice.typefaces"],
        "docservice/rendering/fonts.py": ["docservice.typefaces"],
    }
    for module, expected in uses.items():
        names = {name for _, name in _imported_names(ROOT / module)}
        assert set(expected) <= names, (module, set(expected) - names)
    assert not (SIGNING / "identity.py").exists()
