"""studio.audio must stay importable without Qt: it neither imports Qt nor pulls it in through a dependency."""

import ast
import pathlib
import subprocess
import sys

QT_MODULES = ("PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "qtpy")
AUDIO_DIR = pathlib.Path(__file__).resolve().parents[2] / "studio" / "audio"


def test_no_module_in_the_package_imports_qt():
    offenders = []
    for path in sorted(AUDIO_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in QT_MODULES]
    assert len(list(AUDIO_DIR.glob("*.py"))) >= 6
    assert offenders == []


def test_importing_the_package_loads_no_qt():
    code = ("import sys, studio.audio; "
            f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=AUDIO_DIR.parents[1])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
