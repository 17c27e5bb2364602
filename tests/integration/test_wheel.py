"""The project as a user installs it: a wheel built from a copy of the source tree, installed into a fresh virtualenv, the demo run from there.

The project's own virtualenv has the project installed in editable mode, so every other test imports the
source tree; these tests prove that a normal install carries every module and every data file the code
reads at run time (package-data in pyproject.toml). Installing the third-party dependencies from an index
would be slow, so the fresh virtualenv gets the wheel alone (--no-deps) and a .pth file that appends this
environment's site-packages as plain paths: site.py puts them after the virtualenv's own site-packages and
does not process the .pth files found there, so the editable install's finder (__editable__*.pth) is never
installed, and the fixture checks that every package is imported from the virtualenv.
"""
from __future__ import annotations

import email
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from dataclasses import dataclass
from email import policy
from fnmatch import fnmatch
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from zipfile import ZipFile

import pytest

from tests.helpers.processes import gateway_env

ROOT = Path(__file__).resolve().parents[2]
DATA_DIRS = ("gateway/defaults", "gateway/templates", "gateway/migrations")
LOCAL_ONLY = {"build", "dist", "gateway-demo", "gateway-data", "test-artifacts", "mutants"}  # at the top of a working tree, never part of the project
CJK = re.compile(r"[\u4e00-\u9fff]")

# Run by the installed interpreter: every module of the installed packages, where it came from, the paths the
# modules compute from their __file__ (defaults/, templates/, migrations/) and whether they exist.
PROBE = r"""
import importlib, importlib.metadata, json, pkgutil, sys, traceback
from pathlib import Path

modules, failed, paths = {}, {}, {}
for top in sys.argv[1:]:
    try:
        package = importlib.import_module(top)
    except Exception:
        failed[top] = traceback.format_exc()
        continue
    names = [top] + [info.name for info in pkgutil.walk_packages(package.__path__, top + ".") if not info.name.endswith("__main__")]
    for name in names:
        try:
            module = importlib.import_module(name)
        except Exception:
            failed[name] = traceback.format_exc()
            continue
        modules[name] = module.__file__
        for attr, value in vars(module).items():
            if isinstance(value, Path) and value.is_absolute():
                paths[f"{name}.{attr}"] = [str(value), value.exists()]
revision = None
try:
    from gateway.db.migrate import head
    from gateway.pipeline.routing_rules import bundled_routing_path

    routing = bundled_routing_path()
    paths["gateway.pipeline.routing_rules.bundled_routing_path()"] = [str(routing), routing.exists()]
    revision = head()
except Exception:
    failed["bundled routing and migration head"] = traceback.format_exc()
dist = importlib.metadata.distribution("hotline-cppcc-gateway")
print(json.dumps({
    "modules": modules, "failed": failed, "paths": paths, "head": revision,
    "meta_path": [repr(finder) for finder in sys.meta_path],
    "distribution": str(dist.locate_file("")), "direct_url": dist.read_text("direct_url.json") or "",
}))
"""


@dataclass(frozen=True)
class Built:
    source: Path  # the copy of the working tree the wheel was built from
    wheel: Path
    packages: list[str]  # top-level packages, as [tool.setuptools.packages.find] include selects them

    def names(self) -> set[str]:
        with ZipFile(self.wheel) as archive:
            return {name for name in archive.namelist() if not name.endswith("/")}

    def listing(self, of: list[str] | None = None) -> str:
        """The wheel's files in the folders of `of`, or all its files but Python modules and metadata."""
        folders = {name.rpartition("/")[0] for name in of or []}
        shown = [n for n in self.names() if n.rpartition("/")[0] in folders] if of else [n for n in self.names() if not n.endswith(".py") and ".dist-info/" not in n]
        return "\n  ".join(sorted(shown)) or "(nothing)"


@dataclass(frozen=True)
class Installed:
    built: Built
    prefix: Path
    python: Path
    scripts: Path
    site: Path

    def env(self) -> dict[str, str]:
        env = gateway_env()
        for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"):
            env.pop(name, None)
        env.update(VIRTUAL_ENV=str(self.prefix), PATH=str(self.scripts) + os.pathsep + env.get("PATH", ""), COLUMNS="200")
        return env


def _ignore(folder: str, names: list[str]) -> set[str]:
    here = Path(folder)
    skip = {n for n in names if n.startswith(".") or n == "__pycache__" or n.endswith((".pyc", ".egg-info", ".whl", ".log", ".eml"))}
    skip |= {n for n in names if (here / n / "pyvenv.cfg").exists()}  # any virtualenv
    if here == ROOT:
        skip |= LOCAL_ONLY & set(names)
    return skip


def _top_level_packages(source: Path) -> list[str]:
    find = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]["find"]
    return sorted(p.name for p in source.iterdir() if (p / "__init__.py").is_file() and any(fnmatch(p.name, pattern) for pattern in find["include"]))


def _isolation() -> list[str]:
    """--no-build-isolation when this environment's setuptools builds wheels by itself (70.1 and later), else pip makes a build environment."""
    try:
        found = tuple(int(n) for n in re.findall(r"\d+", version("setuptools"))[:2])
    except PackageNotFoundError:
        return []
    return ["--no-build-isolation"] if found >= (70, 1) else []


def _inside(path: str | Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def _run(args: list[str | Path], *, env: dict[str, str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _tail(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    # A copy, so that build/ and *.egg-info never land in the working tree (files not yet committed are built too).
    source = tmp_path_factory.mktemp("wheel-source") / "project"
    shutil.copytree(ROOT, source, ignore=_ignore)
    out = tmp_path_factory.mktemp("wheel")
    env = gateway_env()
    env.pop("PYTHONPATH", None)
    result = _run([sys.executable, "-m", "pip", "wheel", source, "--no-deps", *_isolation(), "-w", out, "-q"], env=env, cwd=out, timeout=180)
    assert result.returncode == 0, "pip wheel failed\n" + _tail(result)
    wheels = list(out.glob("hotline_cppcc_gateway-*.whl"))
    assert len(wheels) == 1, f"pip wheel made {sorted(p.name for p in out.iterdir())}"
    return Built(source=source, wheel=wheels[0], packages=_top_level_packages(source))


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    prefix = tmp_path_factory.mktemp("venv") / "env"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(prefix)
    python = prefix / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    env = gateway_env()
    env.pop("PYTHONPATH", None)
    result = _run([python, "-c", "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"], env=env, cwd=prefix, timeout=30)
    assert result.returncode == 0, _tail(result)
    paths = json.loads(result.stdout)
    site, scripts = Path(paths["purelib"]), Path(paths["scripts"])
    result = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", built.wheel], env=env, cwd=prefix, timeout=120)
    assert result.returncode == 0, "pip install of the wheel failed\n" + _tail(result)
    here = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))  # this environment's third-party packages
    (site / "_project_dependencies.pth").write_text("".join(f"{p}\n" for p in here), encoding="utf-8")
    installed = Installed(built=built, prefix=prefix, python=python, scripts=scripts, site=site)

    result = _run([python, "-c", "import sys, importlib; print('\\n'.join(importlib.import_module(p).__file__ for p in sys.argv[1:]))", *built.packages],
                  env=installed.env(), cwd=prefix, timeout=60)
    assert result.returncode == 0, "the installed packages do not import\n" + _tail(result)
    outside = [f for f in result.stdout.splitlines() if not _inside(f, site)]
    assert not outside, f"imported from outside the virtualenv's {site}: {outside}"
    return installed


def test_the_wheel_holds_every_file_of_the_packages(built: Built) -> None:
    for folder in DATA_DIRS:
        assert any(p.is_file() for p in (built.source / folder).rglob("*")), f"no files under {folder} in the source tree: is DATA_DIRS out of date?"
    expected = {p.relative_to(built.source).as_posix() for top in built.packages for p in (built.source / top).rglob("*") if p.is_file()}
    expected = {name for name in expected if not any(part.startswith(".") or part == "__pycache__" for part in name.split("/")) and not name.endswith(".pyc")}
    assert {"gateway/defaults/taxonomy.csv", "gateway/templates/packet.txt.j2", "gateway/migrations/env.py"} <= expected
    missing = sorted(expected - built.names())
    assert not missing, (f"{built.wheel.name} lacks {len(missing)} file(s) of the source tree: {missing}; package-data (or packages) in "
                         f"pyproject.toml must cover them. The wheel holds in those folders:\n  {built.listing(missing)}")


def test_the_installed_modules_and_their_data_files_come_from_the_virtualenv(installed: Installed, tmp_path: Path) -> None:
    result = _run([installed.python, "-W", "error", "-c", PROBE, *installed.built.packages], env=installed.env(), cwd=tmp_path, timeout=120)
    assert result.returncode == 0, _tail(result)
    found = json.loads(result.stdout)
    assert not found["failed"], "modules that do not import from the wheel:\n" + "\n".join(found["failed"].values()) + f"\nThe wheel's data files:\n  {installed.built.listing()}"
    site = installed.site
    outside = {name: file for name, file in found["modules"].items() if not _inside(file, site)}
    assert not outside, f"modules imported from outside the virtualenv's {site}: {outside}"
    assert {"gateway.pipeline.taxonomy", "gateway.pipeline.classifier", "gateway.pipeline.topics.text", "gateway.delivery.packet_email", "gateway.db.migrate"} <= set(found["modules"])
    absent = {name: path for name, (path, exists) in found["paths"].items() if not exists or not _inside(path, site)}
    assert not absent, f"paths the code computes from __file__ that are missing or outside {site}: {absent}\nThe wheel's data files:\n  {installed.built.listing()}"
    assert "gateway.pipeline.taxonomy.DEFAULTS" in found["paths"] and "gateway.db.migrate.MIGRATIONS" in found["paths"]
    assert not [f for f in found["meta_path"] if "editable" in f.lower()], found["meta_path"]
    assert _inside(found["distribution"], site) and '"editable"' not in found["direct_url"], (found["distribution"], found["direct_url"])

    from alembic.script import ScriptDirectory

    assert found["head"] == ScriptDirectory(str(installed.built.source / "gateway" / "migrations")).get_current_head()


def test_the_demo_runs_from_the_installed_console_script(installed: Installed, tmp_path: Path) -> None:
    script = installed.scripts / ("gateway.exe" if os.name == "nt" else "gateway")
    assert script.is_file(), f"no console script {script}: {sorted(p.name for p in installed.scripts.iterdir())}"
    if os.name != "nt":
        assert script.read_text(encoding="utf-8").splitlines()[0] == f"#!{installed.python}"
    cwd = tmp_path / "empty"
    cwd.mkdir()
    result = _run([script, "demo", "--records", "60"], env=installed.env(), cwd=cwd, timeout=150)
    assert result.returncode == 0, "`gateway demo` from the wheel failed\n" + _tail(result)
    assert "Traceback" not in result.stderr, result.stderr[-4000:]

    # the figures panel: "│ database: gateway-demo/run-…/gateway.db │" and "│ packets:  gateway-demo/run-…/outbox/ │"
    packets = re.search(r"^\W*packets:\s+(\S+)", result.stdout, re.MULTILINE)
    database = re.search(r"^\W*database:\s+(\S+)", result.stdout, re.MULTILINE)
    assert packets and database, "the demo did not say where the packets and the database went\n" + _tail(result)
    outbox, db = cwd / packets.group(1), cwd / database.group(1)
    assert _inside(outbox, cwd) and db.is_file(), (outbox, db)
    files = sorted(outbox.glob("P*.eml"))
    assert files, f"no packet .eml files in {outbox}: {sorted(p.name for p in outbox.iterdir()) if outbox.is_dir() else 'no such folder'}"
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        subject = str(message["Subject"] or "")
        assert CJK.search(subject) and "线索包" in subject, f"{path.name}: subject {subject!r}"
        body = message.get_body(("plain",))
        assert body is not None and CJK.search(body.get_content()), f"{path.name} has no Chinese plain-text body"
