#!/usr/bin/env python3
"""Checks the CI recipes of examples/ci/ against the built scangate.

  check_ci_examples.py --scangate BIN [--root DIR]

For buildspec.yml (AWS CodeBuild), github-actions.yml and gitlab-ci.yml:
  - the file is well-formed YAML of that CI's shape;
  - every `scangate ...` command line in its shell scripts uses a subcommand and flags that
    `scangate <subcommand> --help` of BIN lists (or the global flags of `scangate --help`);
  - the gate is the exit code: a `scangate image ... --upload --policy` line exists, nothing greps,
    nothing swallows a failure (`|| true`, `set +e`, continue-on-error), and `docker push` comes
    after the scan in the same script or in a later step that runs only on success;
and policy.yaml passes `scangate policy check` and equals the chart's default policy.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys

import yaml

ERRORS = []


def err(msg):
    ERRORS.append(msg)
    print(f"check_ci_examples: FAIL: {msg}", file=sys.stderr)


def help_flags(scangate, words):
    """Flags a `scangate WORDS --help` lists, or None when WORDS is not a command."""
    proc = subprocess.run([scangate, *words, "--help"], capture_output=True, text=True, timeout=30)
    text = proc.stdout + proc.stderr
    if proc.returncode != 0:
        return None
    # a help that does not name the command (e.g. the parent's, for a misspelt subcommand) does not count
    if words and not re.search(r"scangate " + re.escape(" ".join(words)) + r"(?![\w-])", text):
        return None
    flags = set(re.findall(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*)", text))
    subcommands = set(re.findall(r"scangate " + re.escape(" ".join(words)) + r" ([a-z][a-z-]*)(?![\w-])", text))
    return flags, subcommands


def logical_lines(script):
    """Shell lines with backslash continuations joined, comments dropped."""
    out, cur = [], ""
    for raw in script.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        cur += line
        if cur.strip() and not cur.strip().startswith("#"):
            out.append(cur.strip())
        cur = ""
    if cur.strip():
        out.append(cur.strip())
    return out


SEPARATORS = {";", "&&", "||", "|", "then", "do", "else", "!", "{", "("}


def scangate_commands(line):
    """Argument lists (after the word `scangate`) of every scangate command on a shell line."""
    if re.match(r"^scangate\s*\(\)", line):  # the wrapper function's definition
        return []
    try:
        lex = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lex.whitespace_split = True
        tokens = list(lex)
    except ValueError as e:
        err(f"cannot tokenize shell line {line!r}: {e}")
        return []
    cmds, i = [], 0
    while i < len(tokens):
        if tokens[i] == "scangate" and (i == 0 or tokens[i - 1] in SEPARATORS):
            j = i + 1
            while j < len(tokens) and tokens[j] not in SEPARATORS:
                j += 1
            cmds.append(tokens[i + 1:j])
            i = j
        else:
            i += 1
    return cmds


def check_scripts(name, scripts, scangate, global_flags, cache):
    """scripts: list of (label, text) in execution order. Returns the number of gate lines."""
    gates = 0
    seen_gate = False
    for label, text in scripts:
        for line in logical_lines(text):
            where = f"{name} ({label}): {line[:100]}"
            if re.search(r"\bgrep\b", line):
                err(f"{where}: greps output; the gate must be the exit code")
            if re.search(r"\|\|\s*(true|:)\b", line) or re.search(r"\bset\s+\+e\b", line):
                err(f"{where}: swallows a failure")
            if re.search(r"\bdocker\s+push\b", line) and not seen_gate:
                err(f"{where}: pushes before the scangate gate ran")
            for args in scangate_commands(line):
                words = []
                for a in args:
                    if a.startswith("-"):
                        break
                    words.append(a)
                    if len(words) == 2:
                        break
                # the longest prefix of words that is a command
                flags = None
                while words:
                    key = tuple(words)
                    if key not in cache:
                        cache[key] = help_flags(scangate, words)
                    flags = cache[key]
                    if flags is not None:
                        break
                    words.pop()
                if not words or flags is None:
                    err(f"{where}: `scangate {' '.join(args[:2])}` is not a scangate command")
                    continue
                flags, subcommands = flags
                rest = args[len(words):]
                if subcommands and rest and not rest[0].startswith("-") and rest[0] not in subcommands:
                    err(f"{where}: `scangate {' '.join(words)}` has no subcommand {rest[0]}")
                    continue
                for a in args[len(words):]:
                    if a.startswith("--"):
                        flag = a.split("=", 1)[0]
                        if flag not in flags and flag not in global_flags:
                            err(f"{where}: `scangate {' '.join(words)}` has no flag {flag}")
                if words[0] == "image":
                    if "--upload" in args and "--policy" in args:
                        gates += 1
                        seen_gate = True
                    else:
                        err(f"{where}: the image scan must gate on --policy and --upload the report")
                    if "--upload-soft-fail" in args:
                        err(f"{where}: --upload-soft-fail hides a failed upload")
    return gates


def buildspec_scripts(doc):
    if str(doc.get("version")) != "0.2":
        err("buildspec.yml: version is not 0.2")
    phases = doc.get("phases") or {}
    scripts = []
    for phase in ("install", "pre_build", "build", "post_build"):
        for i, cmd in enumerate((phases.get(phase) or {}).get("commands") or []):
            if not isinstance(cmd, str):  # e.g. an unquoted `cut -d: -f5` read as a mapping
                err(f"buildspec.yml: {phase} command {i} is not a string: {cmd!r}")
                continue
            scripts.append((f"{phase}[{i}]", cmd))
    # everything runs in one shell: check the phases as one script, and the push sits in build
    post = "\n".join((phases.get("post_build") or {}).get("commands") or [])
    if "docker push" in post:
        err("buildspec.yml: docker push in post_build runs even when the build phase failed")
    env = doc.get("env") or {}
    if "ACCUKNOX_TOKEN" not in (env.get("secrets-manager") or {}) and \
            "ACCUKNOX_TOKEN" not in (env.get("parameter-store") or {}):
        err("buildspec.yml: the CSPM token does not come from Secrets Manager / Parameter Store")
    return [("phases", "\n".join(s for _, s in scripts))]


def github_scripts(doc):
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` key as true
    if not on or not doc.get("jobs"):
        err("github-actions.yml: no `on` or no `jobs`")
    scripts = []
    for job_name, job in (doc.get("jobs") or {}).items():
        if job.get("continue-on-error"):
            err(f"github-actions.yml: job {job_name} has continue-on-error")
        for i, step in enumerate(job.get("steps") or []):
            if not isinstance(step, dict) or ("run" not in step and "uses" not in step):
                err(f"github-actions.yml: job {job_name} step {i} has neither run nor uses")
                continue
            if step.get("continue-on-error"):
                err(f"github-actions.yml: step {step.get('name', i)} has continue-on-error")
            run = step.get("run")
            if run:
                cond = str(step.get("if", ""))
                if "docker push" in run and ("always()" in cond or "failure()" in cond):
                    err(f"github-actions.yml: the push step runs even after a failed gate ({cond})")
                for line in logical_lines(run):
                    if "secrets." in line:
                        err(f"github-actions.yml: a secret is expanded into the script: {line}")
                scripts.append((f"{job_name}.{step.get('name', i)}", run))
    return scripts


def gitlab_scripts(doc):
    scripts = []
    for job_name, job in doc.items():
        if not isinstance(job, dict) or "script" not in job:
            continue
        if job.get("allow_failure"):
            err(f"gitlab-ci.yml: job {job_name} has allow_failure")
        lines = list(job.get("before_script") or []) + list(job.get("script") or [])
        if not all(isinstance(x, str) for x in lines):
            err(f"gitlab-ci.yml: job {job_name} has a script entry that is not a string")
        scripts.append((job_name, "\n".join(lines)))
    if not scripts:
        err("gitlab-ci.yml: no job with a script")
    return scripts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scangate", required=True)
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    a = ap.parse_args()
    ex = os.path.join(a.root, "examples", "ci")
    global_flags = help_flags(a.scangate, [])
    if not global_flags or "--log-format" not in global_flags[0]:
        err(f"{a.scangate} --help lists no global flags")
        global_flags = set()
    else:
        global_flags = global_flags[0]
    cache = {}
    checked = 0
    for name, extract in (("buildspec.yml", buildspec_scripts), ("github-actions.yml", github_scripts),
                          ("gitlab-ci.yml", gitlab_scripts)):
        path = os.path.join(ex, name)
        try:
            with open(path, encoding="utf-8") as f:
                doc = yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as e:
            err(f"{name}: not readable YAML: {e}")
            continue
        if not isinstance(doc, dict):
            err(f"{name}: not a YAML mapping")
            continue
        scripts = extract(doc)
        gates = check_scripts(name, scripts, a.scangate, global_flags, cache)
        if gates < 1:
            err(f"{name}: no `scangate image ... --policy ... --upload` gate")
        if not any("docker push" in text for _, text in scripts):
            err(f"{name}: never pushes the image")
        checked += 1

    policy = os.path.join(ex, "policy.yaml")
    proc = subprocess.run([a.scangate, "policy", "check", policy], capture_output=True, text=True)
    if proc.returncode != 0:
        err(f"scangate policy check {policy}: exit {proc.returncode}: {proc.stdout}{proc.stderr}")
    with open(os.path.join(a.root, "charts", "scangate", "values.yaml"), encoding="utf-8") as f:
        chart_policy = yaml.safe_load(f)["policy"]
    with open(policy, encoding="utf-8") as f:
        if yaml.safe_load(f) != chart_policy:
            err("examples/ci/policy.yaml differs from the chart's default policy (values.yaml `policy:`)")

    if ERRORS:
        print(f"check_ci_examples: {len(ERRORS)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_ci_examples: {checked} recipes ok; commands checked against {a.scangate}: "
          + ", ".join("scangate " + " ".join(k) for k in sorted(cache) if cache[k] is not None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
