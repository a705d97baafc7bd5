"""`python main.py` on an X11 desktop that lacks libraries Qt's xcb plugin needs prints the packages to install, read
from ``ldd`` of the plugin: a plugin built here whose libraries are missing, and Qt's own checked against dpkg."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from studio.ui.app import debian_package, missing_xcb_packages, xcb_problem

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("ldd") is None,
                                reason="ldd on Linux")


def _library(folder: Path, soname: str, source: str, *links: str) -> Path:
    """Compile ``source`` into the shared library ``folder/soname``, linked against ``links`` (-l arguments)."""
    folder.mkdir(parents=True, exist_ok=True)
    c = folder / f"{soname}.c"
    c.write_text(source)
    out = folder / soname
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), f"-Wl,-soname,{soname}", str(c), f"-L{folder}",
                    *links], check=True, capture_output=True)
    return out


@pytest.mark.skipif(shutil.which("gcc") is None, reason="builds a plugin with gcc")
def test_a_plugin_whose_libraries_are_missing_names_their_packages(tmp_path, monkeypatch):
    deps = tmp_path / "deps"
    _library(deps, "libxcb-studiotest.so.4", "int studio_icccm(void) { return 4; }\n")
    _library(deps, "libstudio-x11.so.0", "int studio_x11(void) { return 0; }\n")
    plugin = _library(tmp_path / "platforms", "libqxcb.so",
                      "int studio_icccm(void); int studio_x11(void);\n"
                      "int plugin(void) { return studio_icccm() + studio_x11(); }\n",
                      f"-L{deps}", "-l:libxcb-studiotest.so.4", "-l:libstudio-x11.so.0", "-lm")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    assert missing_xcb_packages(plugin) == ["libstudio-x11-0", "libxcb-studiotest4"]  # libm is there: not named
    message = xcb_problem(plugin)
    assert "sudo apt install libstudio-x11-0 libxcb-studiotest4\n" in message

    monkeypatch.setenv("LD_LIBRARY_PATH", str(deps))  # installed: nothing to say, the window opens
    assert missing_xcb_packages(plugin) == [] and xcb_problem(plugin) is None


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="checks package names against dpkg's database")
def test_the_package_named_for_each_library_of_qts_xcb_plugin_is_the_one_dpkg_says_ships_it():
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    found = {}
    for binary in (qt / "plugins" / "platforms" / "libqxcb.so", *sorted((qt / "lib").glob("libQt6XcbQpa.so*"))[:1]):
        out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[1] == "=>" and parts[2].startswith("/") and str(qt) not in parts[2]:
                found[parts[0]] = parts[2]
    if not found:
        pytest.skip("Qt's xcb plugin loads no system library here")
    checked = 0
    for soname, path in sorted(found.items()):
        package = _owner(Path(path))
        if package is not None:  # None: a library no package installed (built locally)
            assert debian_package(soname) == package, soname
            checked += 1
    assert checked, "dpkg knows none of the libraries Qt's xcb plugin loads"


def _owner(path: Path):
    """The package dpkg says installed ``path`` (as linked, as resolved, with or without a merged /usr), or None."""
    for candidate in {path, path.resolve()}:
        text = str(candidate)
        for form in (text, text.removeprefix("/usr") if text.startswith("/usr/") else "/usr" + text):
            owner = subprocess.run(["dpkg", "-S", form], check=False, capture_output=True, text=True)
            if owner.returncode == 0:
                return owner.stdout.split(":")[0]
    return None


def test_the_packages_the_issue_names():
    assert [debian_package(name) for name in ("libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0",
                                              "libxkbcommon-x11.so.0")] == [
        "libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0", "libxkbcommon-x11-0"]
