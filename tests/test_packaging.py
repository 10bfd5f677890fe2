"""The installed package must work without the repository: the grammar ships in the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from compengine.lang.parser import grammar_text
from tests.support import REPO


def test_the_wheel_contains_the_grammar_and_the_package(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("compengine-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "compengine/grammar/compengine.lark" in names
    assert "compengine/lang/checker.py" in names
    shipped = zipfile.ZipFile(wheel).read("compengine/grammar/compengine.lark").decode()
    assert shipped == (REPO / "grammar" / "compengine.lark").read_text(encoding="utf-8")


def test_the_parser_uses_the_grammar_file_of_the_repository() -> None:
    assert grammar_text() == (REPO / "grammar" / "compengine.lark").read_text(encoding="utf-8")
