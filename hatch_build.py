"""Build hook: compile the GOST speed path (signing/gost/_gostc.c) into the wheel.

It needs only a C compiler and the Python headers, which pip's usual build set-up has; where
they are missing the hook says so and the package installs without it, and signing.gost runs
its pure-Python code (correct, about 500 times slower for Streebog).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("signing/gost/_gostc.c")


class GostBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        target = SOURCE.with_name("_gostc" + sysconfig.get_config_var("EXT_SUFFIX"))
        cc = shlex.split(sysconfig.get_config_var("CC") or "cc")
        command = [
            *cc,
            "-O3",
            "-fPIC",
            "-shared",
            "-std=c99",
            "-Wall",
            f"-I{sysconfig.get_paths()['include']}",
            str(root / SOURCE),
            "-o",
            str(root / target),
        ]
        try:
            subprocess.run(command, check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", "") or exc
            print(
                f"signing.gost: C speed path not built ({detail}); pure Python will run",
                file=sys.stderr,
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(root / target)] = str(target)
