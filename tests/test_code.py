"""The code base passes its own linters and type checker."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is not installed beside {sys.executable}"
    return found


def test_ruff_finds_nothing() -> None:
    result = _run(_tool("ruff"), "check", "app", "tests", "bench")

    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted() -> None:
    result = _run(_tool("ruff"), "format", "--check", "app", "tests", "bench")

    assert result.returncode == 0, result.stdout + result.stderr


def test_types_check() -> None:
    result = _run(sys.executable, "-m", "mypy")

    assert result.returncode == 0, result.stdout + result.stderr
