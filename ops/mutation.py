#!/usr/bin/env python3
"""Mutation testing of the modules that guard the gateway's promises (issue 13, item 3).

    .venv/bin/python ops/mutation.py                      # all modules
    .venv/bin/python ops/mutation.py --module privacy     # one (repeat --module for more)
    .venv/bin/python ops/mutation.py --survivors          # also print every surviving mutant's diff
    .venv/bin/python ops/mutation.py --check              # exit 1 below 90 % or on a survivor not explained

mutmut 3 changes one thing at a time in a module (a `<` into `<=`, a string
into "XX…XX", a `return x` into `return None`, …) and runs the fast unit
tests that call the changed function. A mutant the tests notice is *killed*;
one they do not notice *survived*: either a test is missing, or the mutant
cannot change behaviour (equivalent; docs/mutation-survivors.md says why, one
line each). The kill rate is killed / all mutants (a timeout counts as
killed: the tests did notice). Figures and dates: docs/quality.md, "Mutation
testing".

How it runs. mutmut works in the current directory and is configured by
`[tool.mutmut]` in pyproject.toml or `[mutmut]` in setup.cfg; this command
does neither in the checkout. It copies the sources and the tests into a
workspace (default build/mutation/, ignored by git), writes the workspace's
own setup.cfg, and runs `mutmut run` there, so a run is a snapshot that
other edits in the tree cannot disturb, and the checkout keeps no mutmut
configuration. In the workspace copy only, a method decorated with
@model_validator, @field_validator or @property (the Table 1 checks) is
split into the decorated method, which only forwards, and an undecorated
`<name>_body` with the original code: mutmut 3 does not mutate decorated
functions, and the split changes no behaviour.

Tests: tests/unit/ with -p no:randomly, without tests/unit/intake/test_hostile_input.py
(hypothesis fuzzing at several seconds per test, which finds crashes, not
wrong answers) and tests/unit/pipeline/test_normalize_helpers.py (helper processes, which
cannot run the mutated code: TESTS says why). After a run, the workspace holds mutmut's results:
`cd build/mutation && ../../.venv/bin/mutmut show <mutant>` or `… browse`.

About 7 minutes for all modules on two busy cores (docs/quality.md); not
part of every CI run. Exit status: 0; 1 with --check when a module is under
--min-rate or a survivor is not explained in docs/mutation-survivors.md; 2
when mutmut itself fails (its output: <workspace>/mutmut.log).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
SOURCE_PACKAGES = ("gateway", "contracts", "connectors", "workers")  # copied and importable from mutants/
ALSO_COPY = ("ops",)  # tests/helpers import ops.gwenv and ops.scratchdb
TESTS = ("tests/unit", "--ignore=tests/unit/intake/test_hostile_input.py", "--ignore=tests/unit/test_architecture.py",
         # normalization's helper processes (spawned) import the mutated modules afresh: neardup's HASHER = MinHasher() at
         # import then asks mutmut's configuration, which a helper cannot find, so it dies before reading its start-up data
         # and the test waits for it forever. These tests compare a helper's output with this process's, both the same code.
         "--ignore=tests/unit/pipeline/test_normalize_helpers.py",
         # the masker's gate on real sentences (a second, 607 strings): it holds recall and false positives by kind
         "tests/quality/test_real_data.py::test_pii_recall_and_false_positives_on_real_sentences",
         # neardup's look-up and ANALYZE on PostgreSQL: what only a real PostgreSQL shows (about 2 s a mutant it covers)
         "tests/integration/pipeline/test_issues.py::test_the_band_look_up_is_planned_for_the_rows_it_finds_after_a_table_analysed_empty_gains_bands_in_the_same_transaction")
# Each mutant is a fresh pytest session in a forked process: these plugins cost more there than the tests
# (unraisableexception's gc.collect of the whole heap alone ~0.4 s per mutant) and find nothing in these tests.
PYTEST_ARGS = ("-p", "no:cacheprovider", "-p", "no:unraisableexception", "-p", "no:hypothesispytest", "-p", "no:schemathesis")
SURVIVORS_DOC = ROOT / "docs" / "mutation-survivors.md"
LIFTED_DECORATORS = {"model_validator", "field_validator", "property"}
MARKER = ".mutation-workspace"


@dataclass(frozen=True)
class Part:
    """One file of a module, optionally only some of its functions (mutmut names: x_func, xǁClassǁmethod)."""

    path: str
    functions: tuple[str, ...] = ()

    @property
    def dotted(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")

    def patterns(self) -> list[str]:
        if not self.functions:
            return [f"{self.dotted}.*"]
        return [f"{self.dotted}.{_mangle(f)}__mutmut_*" for f in self.functions]

    def covers(self, mutant: str) -> bool:
        module, _, name = mutant.rpartition(".")
        if module != self.dotted:
            return False
        return not self.functions or name.partition("__mutmut_")[0] in {_mangle(f) for f in self.functions}


@dataclass(frozen=True)
class Module:
    name: str
    what: str
    parts: tuple[Part, ...]


def _mangle(function: str) -> str:
    """mutmut's name for a function ("verify") or a method ("Rule.matches")."""
    cls, _, name = function.rpartition(".")
    return f"xǁ{cls}ǁ{name}" if cls else f"x_{name}"


MODULES = {m.name: m for m in [
    Module("privacy", "gateway/pipeline/privacy.py: masking phones, names, ID and bank cards, plates, e-mail", (Part("gateway/pipeline/privacy.py"),)),
    Module("screening", "gateway/pipeline/screening.py: what may not go to consultation", (Part("gateway/pipeline/screening.py"),)),
    Module("routing", "gateway/pipeline/routing_rules.py: rules, committees, workstations, config checks", (Part("gateway/pipeline/routing_rules.py"),)),
    Module("neardup", "gateway/pipeline/neardup.py: MinHash, LSH bands, issue assignment", (Part("gateway/pipeline/neardup.py"),)),
    Module("signing", "gateway/signing.py: the HMAC signature check (verify) and what it signs", (Part("gateway/signing.py"),)),
    Module("table1", "Table 1 validation: contracts/consultations.py (model validators) and the checks of "
           "gateway/loop/table1.py (_committee, _check_links, file_table1, _file_table1; not the reminders)",
           (Part("contracts/consultations.py"), Part("gateway/loop/table1.py", ("_committee", "_check_links", "file_table1", "_file_table1")))),
]}

STATUS = {  # mutmut 3.8's exit codes (mutmut.stats.status_by_exit_code)
    1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout",
    37: "killed", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout", None: "not checked",
}


@dataclass
class Tally:
    killed: int = 0
    survived: int = 0
    timeout: int = 0
    other: int = 0  # no tests, suspicious, not checked, segfault: counted as not killed
    survivors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.killed + self.survived + self.timeout + self.other

    @property
    def rate(self) -> float:
        return (self.killed + self.timeout) / self.total if self.total else 0.0


# ---- the workspace -------------------------------------------------------------------------------


def lift_decorated_methods(source: str) -> tuple[str, list[str]]:
    """Split each method decorated with a pydantic validator or @property into a forwarding method and `<name>_body`.

    Returns the new source and the names of the methods split. Behaviour is unchanged: the decorated
    method calls `self.<name>_body(<same arguments>)`, whose body is the original one.
    """
    import libcst as cst

    def decorator_name(d: cst.Decorator) -> str | None:
        node = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
        return node.value if isinstance(node, cst.Name) else None

    lifted: list[str] = []

    class Lift(cst.CSTTransformer):
        def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
            if not isinstance(updated.body, cst.IndentedBlock):
                return updated
            body: list[cst.BaseStatement] = []
            for stmt in updated.body.body:
                params = stmt.params if isinstance(stmt, cst.FunctionDef) else None
                if (params is None or not stmt.decorators or not params.params or params.params[0].name.value != "self"
                        or not isinstance(params.star_arg, cst.MaybeSentinel) or params.kwonly_params or params.star_kwarg or params.posonly_params
                        or any(decorator_name(d) not in LIFTED_DECORATORS for d in stmt.decorators)):
                    body.append(stmt)
                    continue
                names = [p.name.value for p in params.params]
                inner = f"{stmt.name.value}_body"
                forward = cst.parse_statement(f"return self.{inner}({', '.join(names[1:])})")
                body.append(stmt.with_changes(body=cst.IndentedBlock(body=[forward])))
                body.append(stmt.with_changes(name=cst.Name(inner), decorators=[], leading_lines=[cst.EmptyLine(indent=False)]))
                lifted.append(f"{updated.name.value}.{stmt.name.value}")
            return updated.with_changes(body=updated.body.with_changes(body=body))

    module = cst.parse_module(source).visit(Lift())
    return module.code, lifted


def prepare_workspace(workspace: Path, modules: list[Module]) -> list[str]:
    """A fresh copy of sources and tests with its own mutmut configuration. Returns the methods split for mutmut."""
    if workspace.exists():
        if not (workspace / MARKER).exists() and any(workspace.iterdir()):
            raise SystemExit(f"{workspace} is not empty and not a workspace of ops/mutation.py (no {MARKER}): choose another --workspace")
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)
    (workspace / MARKER).write_text("made by ops/mutation.py; deleted and rebuilt on each run\n", encoding="utf-8")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
    for name in (*SOURCE_PACKAGES, *ALSO_COPY, "tests"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, workspace / name, ignore=ignore)
    # pytest's settings (filterwarnings = error, markers) come from pyproject.toml; a [tool.mutmut] table
    # there would make mutmut ignore setup.cfg, so the copy has none.
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pyproject = re.sub(r"(?ms)^\[tool\.mutmut\][^\[]*", "", pyproject)
    (workspace / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    lifted: list[str] = []
    for part in sorted({p.path for m in modules for p in m.parts}):
        path = workspace / part
        code, names = lift_decorated_methods(path.read_text(encoding="utf-8"))
        path.write_text(code, encoding="utf-8")
        lifted += [f"{part}: {n}" for n in names]
    only = sorted({p.path for m in modules for p in m.parts})
    lines = ["[mutmut]", "source_paths =", *(f"    {p}" for p in SOURCE_PACKAGES if (workspace / p).is_dir()),
             "only_mutate =", *(f"    {p}" for p in only),
             "also_copy =", *(f"    {p}" for p in ALSO_COPY),
             "pytest_add_cli_args_test_selection =", *(f"    {t}" for t in TESTS),
             "pytest_add_cli_args =", *(f"    {a}" for a in PYTEST_ARGS),
             # a mutant that loops is stopped after (its tests' time + 1 s) × 5 × 2 CPU seconds (mutmut's default: × 15)
             "timeout_multiplier = 5", "use_git_change_detection = false", ""]
    (workspace / "setup.cfg").write_text("\n".join(lines), encoding="utf-8")
    return lifted


# ---- running and reading ---------------------------------------------------------------------------


def read_results(workspace: Path, modules: list[Module]) -> dict[str, Tally]:
    tallies = {m.name: Tally() for m in modules}
    for module in modules:
        for part in module.parts:
            meta = workspace / "mutants" / f"{part.path}.meta"
            if not meta.exists():
                continue
            codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
            tally = tallies[module.name]
            for mutant, code in sorted(codes.items(), key=lambda kv: _natural(kv[0])):
                if not part.covers(mutant):
                    continue
                status = STATUS.get(code, "suspicious")
                if status == "killed":
                    tally.killed += 1
                elif status == "timeout":
                    tally.timeout += 1
                elif status == "survived":
                    tally.survived += 1
                    tally.survivors.append(mutant)
                else:
                    tally.other += 1
                    tally.survivors.append(f"{mutant} ({status})")
    return tallies


def _natural(name: str) -> tuple[str, int]:
    base, _, number = name.rpartition("__mutmut_")
    return base, int(number) if number.isdigit() else 0


def run_mutmut(workspace: Path, modules: list[Module], max_children: int, verbose: bool) -> int:
    patterns = [p for m in modules for part in m.parts for p in part.patterns()]
    env = dict(os.environ)
    # tests/helpers/realdata.py looks for ../shared/data beside *its* checkout; the workspace is elsewhere.
    env.setdefault("GATEWAY_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    # pytest keeps its last three tmp_path roots per user and removes older ones: sessions of other test runs on
    # the machine must neither remove the mutant runs' directories nor have theirs removed by the mutant runs.
    (workspace / "tmp").mkdir(exist_ok=True)
    env["PYTEST_DEBUG_TEMPROOT"] = str(workspace / "tmp")
    mutmut = VENV_BIN / "mutmut" if (VENV_BIN / "mutmut").exists() else Path(shutil.which("mutmut") or "mutmut")
    command = [str(mutmut), "run", "--max-children", str(max_children), *patterns]
    log_path = workspace / "mutmut.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=workspace, env=env, stdout=None if verbose else log, stderr=subprocess.STDOUT if not verbose else None)
        show = sys.stdout.isatty() and not verbose
        while process.poll() is None:
            time.sleep(2)
            if show:
                done = sum(t.total - t.other for t in read_results(workspace, modules).values())
                print(f"\r  mutants checked: {done} …", end="", flush=True)
        if show:
            print("\r" + " " * 40 + "\r", end="")
    if process.returncode != 0 and not verbose:
        print(log_path.read_text(encoding="utf-8", errors="replace")[-4000:], file=sys.stderr)
    return process.returncode


def explained_survivors() -> set[str]:
    """Mutant names that docs/mutation-survivors.md explains (each line: `name` — why)."""
    if not SURVIVORS_DOC.exists():
        return set()
    return set(re.findall(r"`([\w.ǁ]+__mutmut_\d+)`", SURVIVORS_DOC.read_text(encoding="utf-8")))


def print_table(tallies: dict[str, Tally], explained: set[str], seconds: float) -> None:
    header = ("module", "killed", "survived", "timeout", "other", "total", "kill rate", "unexplained")
    rows = []
    for name, t in tallies.items():
        unexplained = sum(1 for s in t.survivors if s.split(" ")[0] not in explained)
        rows.append((name, str(t.killed), str(t.survived), str(t.timeout), str(t.other), str(t.total), f"{t.rate:.1%}", str(unexplained)))
    every = Tally(*(sum(getattr(t, f) for t in tallies.values()) for f in ("killed", "survived", "timeout", "other")))
    total_unexplained = sum(int(r[-1]) for r in rows)
    footer = ("all", str(every.killed), str(every.survived), str(every.timeout), str(every.other), str(every.total), f"{every.rate:.1%}", str(total_unexplained))
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"mutation testing ({seconds:.0f} s)", show_footer=True)
        for i, column in enumerate(header):
            table.add_column(column, footer=footer[i], justify="left" if i == 0 else "right")
        for row in rows:
            style = "green" if float(row[6].rstrip("%")) >= 90 else "red"
            table.add_row(*row[:6], f"[{style}]{row[6]}[/]", row[7])
        Console().print(table)
    else:
        widths = [max(len(r[i]) for r in [header, *rows, footer]) for i in range(len(header))]
        for row in [header, *rows, footer]:
            print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        print(f"({seconds:.0f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ops/mutation.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--module", action="append", choices=sorted(MODULES), metavar="NAME",
                        help=f"module to mutate (repeatable; default: all of {', '.join(MODULES)})")
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutant runs (default 2)")
    parser.add_argument("--workspace", type=Path, default=ROOT / "build" / "mutation", help="where to copy and run (default build/mutation)")
    parser.add_argument("--survivors", action="store_true", help="print the diff of every surviving mutant")
    parser.add_argument("--json", type=Path, help="also write the figures and survivors to this JSON file")
    parser.add_argument("--check", action="store_true", help="exit 1 if a module is below --min-rate or a survivor is unexplained")
    parser.add_argument("--min-rate", type=float, default=0.90, help="kill rate --check requires (default 0.90)")
    parser.add_argument("--verbose", action="store_true", help="show mutmut's own output instead of logging it to <workspace>/mutmut.log")
    parser.add_argument("--list", action="store_true", help="list the modules and what they cover, and exit")
    args = parser.parse_args(argv)

    if args.list:
        for m in MODULES.values():
            print(f"{m.name:10} {m.what}")
        return 0
    modules = [MODULES[n] for n in dict.fromkeys(args.module or MODULES)]
    workspace = args.workspace.resolve()
    if ROOT == workspace or workspace in ROOT.parents:
        parser.error("the workspace must not be the checkout or above it: it is deleted and rebuilt on each run")
    started = time.monotonic()
    lifted = prepare_workspace(workspace, modules)
    print(f"workspace {workspace}; modules {', '.join(m.name for m in modules)}")
    if lifted:
        print("split for mutmut (decorated methods): " + ", ".join(lifted))
    code = run_mutmut(workspace, modules, args.max_children, args.verbose)
    seconds = time.monotonic() - started
    if code != 0:
        print(f"mutmut failed (exit {code}); see {workspace / 'mutmut.log'}", file=sys.stderr)
        return 2
    tallies = read_results(workspace, modules)
    explained = explained_survivors()
    print_table(tallies, explained, seconds)
    if args.survivors:
        for t in tallies.values():
            for s in t.survivors:
                name = s.split(" ")[0]
                shown = subprocess.run([str(VENV_BIN / "mutmut"), "show", name], cwd=workspace, capture_output=True, text=True)
                print(f"\n{'(explained) ' if name in explained else ''}{shown.stdout.strip()}")
    else:
        unexplained = [s for t in tallies.values() for s in t.survivors if s.split(" ")[0] not in explained]
        if unexplained:
            print(f"\n{len(unexplained)} survivor(s) not explained in {SURVIVORS_DOC.relative_to(ROOT)}:")
            for s in unexplained:
                print(f"  {s}")
            print(f"see each one: --survivors, or cd {workspace} && {VENV_BIN / 'mutmut'} show <name>")
        else:
            survivors = sum(len(t.survivors) for t in tallies.values())
            print(f"\n{survivors} survivor(s), each explained in {SURVIVORS_DOC.relative_to(ROOT)}" if survivors else "\nno survivors")
    if args.json:
        args.json.write_text(json.dumps({
            "seconds": round(seconds), "modules": {n: {"killed": t.killed, "survived": t.survived, "timeout": t.timeout, "other": t.other,
                                                       "total": t.total, "kill_rate": round(t.rate, 4), "survivors": t.survivors}
                                                   for n, t in tallies.items()}}, indent=2, ensure_ascii=False), encoding="utf-8")
    if args.check:
        low = [n for n, t in tallies.items() if t.rate < args.min_rate]
        unexplained_any = any(s.split(" ")[0] not in explained for t in tallies.values() for s in t.survivors)
        if low or unexplained_any:
            print(f"check failed: below {args.min_rate:.0%}: {', '.join(low) or 'none'}; unexplained survivors: {'yes' if unexplained_any else 'none'}",
                  file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
