"""Lint CloudFormation templates with cfn-lint and judge the findings; run by .ci/cfn-lint.

Usage: python cfn-lint-check.py --allowlist FILE [--timing NAME=SECONDS ...] PATH...

Each PATH is a template file or a directory (a cloud assembly, searched recursively for
`*.template.json`, asset directories skipped). Errors fail. A warning fails unless an entry of
the allowlist allows it; an allowlist entry that allows nothing fails too. Informational findings
are printed and never fail. The last line is a one-line summary; the exit code is 0 only on PASS.

Runs with the Python of the virtual environment that holds cfn-lint (PyYAML comes with it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# cfn-lint's rule classes by the first letter of the rule id.
LEVELS = {"E": "error", "W": "warning", "I": "informational"}
REGIONS = os.environ.get("CFN_LINT_REGIONS", "us-east-1").split()


class UsageError(Exception):
    """Bad input to this script: a path, the allowlist or a timing."""


@dataclass
class Allowed:
    rule: str
    message: re.Pattern[str]
    resource_type: str | None
    reason: str
    hits: int = 0

    def allows(self, finding: dict, template: dict) -> bool:
        if finding["Rule"]["Id"] != self.rule or not self.message.fullmatch(finding["Message"]):
            return False
        if self.resource_type is None:
            return True
        path = finding["Location"].get("Path") or []
        if len(path) < 2 or path[0] != "Resources":
            return False
        return (template.get("Resources", {}).get(path[1]) or {}).get("Type") == self.resource_type


@dataclass
class Result:
    template: Path
    resources: int
    seconds: float
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    allowed: list[tuple[dict, Allowed]] = field(default_factory=list)
    infos: list[dict] = field(default_factory=list)


def load_allowlist(path: Path) -> list[Allowed]:
    doc = yaml.safe_load(path.read_text()) or {}
    entries = doc.get("allowed")
    if not isinstance(entries, list):
        raise UsageError(f"{path}: `allowed` must be a list of entries, got {type(entries).__name__}")
    out = []
    for i, e in enumerate(entries):
        where = f"{path}: allowed[{i}]"
        if not isinstance(e, dict):
            raise UsageError(f"{where}: must be a mapping with rule, message, reason (resourceType, see optional)")
        unknown = set(e) - {"rule", "message", "resourceType", "reason", "see"}
        if unknown:
            raise UsageError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: rule, message, resourceType, reason, see")
        rule = e.get("rule")
        if not isinstance(rule, str) or not re.fullmatch(r"W\d{4}", rule):
            raise UsageError(f"{where}.rule: must be a warning rule id (W followed by 4 digits), got {rule!r}; errors cannot be allowed and informational findings need no entry")
        for key in ("message", "reason"):
            if not isinstance(e.get(key), str) or not e[key].strip():
                raise UsageError(f"{where}.{key}: required, a non-empty string")
        try:
            message = re.compile(e["message"])
        except re.error as err:
            raise UsageError(f"{where}.message: not a valid regular expression ({err})") from err
        resource_type = e.get("resourceType")
        if resource_type is not None and not (isinstance(resource_type, str) and re.fullmatch(r"[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+", resource_type)):
            raise UsageError(f"{where}.resourceType: must be a CloudFormation type such as AWS::Lambda::Function, got {resource_type!r}")
        out.append(Allowed(rule, message, resource_type, " ".join(e["reason"].split())))
    return out


def find_templates(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_file():
            found.append(p)
            continue
        if not p.is_dir():
            raise UsageError(f"{p}: no such template file or directory")
        here = []
        for root, dirs, files in os.walk(p):
            # Asset directories hold bundled code and copied files, not the app's templates.
            dirs[:] = sorted(d for d in dirs if not d.startswith("asset.") and d != "node_modules")
            here += [Path(root) / f for f in sorted(files) if f.endswith(".template.json")]
        if not here:
            raise UsageError(f"{p}: no *.template.json in this directory (expected a cloud assembly, e.g. cdk.out)")
        found += here
    return found


def lint(template: Path, allowlist: list[Allowed]) -> Result:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    try:
        body = json.loads(template.read_text())
    except json.JSONDecodeError:
        body = {}  # cfn-lint reports the parse error itself (E0000), naming the line.
    started = time.monotonic()
    # Exit codes: 0 clean, or a bit mask of 2 (errors), 4 (warnings), 8 (informational); 1 is a crash.
    proc = subprocess.run(
        [str(cfn_lint), "--format", "json", "--include-checks", "I", "--regions", *REGIONS, "--", str(template)],
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    if proc.returncode & ~0b1110:
        raise RuntimeError(f"cfn-lint failed on {template} (exit {proc.returncode}):\n{proc.stderr or proc.stdout}")
    result = Result(template, len(body.get("Resources", {})), seconds)
    for f in json.loads(proc.stdout or "[]"):
        level = LEVELS.get(f["Rule"]["Id"][:1], "error")
        if level == "error":
            result.errors.append(f)
        elif level == "informational":
            result.infos.append(f)
        else:
            entry = next((a for a in allowlist if a.allows(f, body)), None)
            if entry:
                entry.hits += 1
                result.allowed.append((f, entry))
            else:
                result.warnings.append(f)
    return result


def line(f: dict) -> str:
    loc = f["Location"]
    path = "/".join(str(x) for x in loc.get("Path") or [])
    return f"{f['Rule']['Id']} line {loc['Start']['LineNumber']} {path}: {f['Message']}"


def report(results: list[Result], allowlist: list[Allowed], allowlist_path: Path, timings: dict[str, float], version: str) -> bool:
    for r in results:
        counts = f"{len(r.errors)} errors, {len(r.warnings)} warnings, {len(r.allowed)} allowed warnings, {len(r.infos)} informational"
        print(f"lint  {r.template}  ({r.resources} resources, {r.seconds:.1f} s): {counts}")
        for f in r.errors:
            print(f"  ERROR    {line(f)}")
        for f in r.warnings:
            print(f"  WARNING  {line(f)}  (not in {allowlist_path})")
        for f in r.infos:
            print(f"  info     {line(f)}")
        by_entry: dict[int, list[str]] = {}
        for f, entry in r.allowed:
            by_entry.setdefault(id(entry), []).append(str((f["Location"].get("Path") or ["?", "?"])[1]))
        for entry in allowlist:
            if id(entry) in by_entry:
                names = by_entry[id(entry)]
                print(f"  allowed  {entry.rule} x{len(names)} ({entry.resource_type or 'any resource'}): {', '.join(names)}")

    stale = [a for a in allowlist if a.hits == 0]
    for a in stale:
        print(f"STALE   {allowlist_path}: the {a.rule} entry ({a.message.pattern}) matched no finding; remove it, and its README line")
    if any(a.hits for a in allowlist):
        print(f"Allowed warnings ({allowlist_path}):")
        for a in allowlist:
            if a.hits:
                print(f"  {a.rule} x{a.hits}: {a.reason}")

    errors = sum(len(r.errors) for r in results)
    warnings = sum(len(r.warnings) for r in results)
    allowed = sum(len(r.allowed) for r in results)
    infos = sum(len(r.infos) for r in results)
    timings = {**timings, "lint": sum(r.seconds for r in results)}
    total = sum(timings.values())
    ok = errors == 0 and warnings == 0 and not stale
    parts = ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
    print(
        f"cfn-lint {version}: {'PASS' if ok else 'FAIL'}: {len(results)} template{'s' if len(results) != 1 else ''}, {errors} errors, "
        f"{warnings} warnings not allowed, {allowed} allowed, {infos} informational"
        f"{f', {len(stale)} stale allowlist entries' if stale else ''} in {total:.0f} s ({parts})"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allowlist", required=True, type=Path)
    parser.add_argument("--timing", action="append", default=[], help="NAME=SECONDS spent before linting, for the summary")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    version = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), "--version"], capture_output=True, text=True).stdout.split()[-1]
    try:
        timings = {}
        for t in args.timing:
            name, _, seconds = t.partition("=")
            try:
                timings[name] = float(seconds)
            except ValueError:
                raise UsageError(f"--timing {t!r}: expected NAME=SECONDS") from None
        allowlist = load_allowlist(args.allowlist)
        templates = find_templates(args.paths)
        results = [lint(t, allowlist) for t in templates]
    except (UsageError, RuntimeError) as err:
        first, _, rest = str(err).partition("\n")
        if rest:
            print(rest)
        print(f"cfn-lint {version}: FAIL: {first}")
        return 1
    return 0 if report(results, allowlist, args.allowlist, timings, version) else 1


if __name__ == "__main__":
    sys.exit(main())
