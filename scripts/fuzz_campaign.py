#!/usr/bin/env python3
"""A long fuzzing campaign: every libFuzzer target until it has had N CPU-seconds.

usage: scripts/fuzz_campaign.py [--cpu-seconds 1800] [--build build-fuzz]
                                [--state DIR] [--only a,b] [--budget-seconds S]
                                [--import fuzz/campaign] [--export fuzz/campaign]

Why CPU time and not wall time: the machines are shared. libFuzzer's
-max_total_time counts wall-clock seconds, so "30 minutes" on a loaded
2-core machine may be three minutes of fuzzing. This script runs each target
and stops it (SIGINT, so libFuzzer prints its final stats) once the process
has used its CPU-second allowance (utime + stime from /proc/PID/stat).

Resumable: the state directory keeps, per target, the growing corpus (seeded
from fuzz/corpus/<name>), the CPU seconds and executions accumulated over
every run, and the binary's hash per run, in DIR/state.json. A later call
(another day, another session) continues where the last one stopped, until
each target reaches --cpu-seconds. --budget-seconds bounds this call's wall
time (the target running when it ends is stopped and its progress kept).

Across machines (--import/--export): the state directory lives on one
machine's disk, which a new machine does not have. fuzz/campaign/ in the
repository keeps the campaign's ledger (state.json: every run of every
target, with its CPU seconds, executions and binary hash) and each target's
corpus minimized by libFuzzer's -merge=1. --import DIR starts a new state
directory from it (the corpus grown so far and the totals, so --cpu-seconds
counts the whole campaign); --export DIR, after this call's runs, merges the
state's runs into DIR/state.json (union of runs, totals recomputed, so
exporting twice counts nothing twice) and merges the corpus into
DIR/corpus/<name> (only inputs that add coverage are copied). Commit
fuzz/campaign/ afterwards.

Findings (crash, leak, timeout, OOM) are kept under DIR/findings/<name>/
and make the exit status 1. The table printed at the end is the report:
target, CPU s accumulated, executions, corpus files, runs, findings.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        # fields after the command: state(0) ... utime(11) stime(12)
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def file_hash(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def load_ledger(d):
    path = os.path.join(d, "state.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def run_key(r):
    return (r.get("when"), r.get("cpu"), r.get("execs"), r.get("binary"))


def export(a, names, state):
    """Merges this state's runs and corpora into the campaign directory a.export."""
    ledger = load_ledger(a.export)
    for n in names:
        st = state[n]
        old = ledger.get(n, {"runs": []})
        runs = list(old.get("runs", []))
        seen = {run_key(r) for r in runs}
        runs += [r for r in st["runs"] if run_key(r) not in seen]
        runs.sort(key=lambda r: r.get("when") or "")
        entry = {"runs": runs, "cpu": round(sum(r.get("cpu", 0) for r in runs), 1),
                 "execs": sum(r.get("execs", 0) for r in runs)}
        if st.get("finding") or old.get("finding"):
            entry["finding"] = st.get("finding") or old.get("finding")
        ledger[n] = entry
        dest = os.path.join(a.export, "corpus", n)
        os.makedirs(dest, exist_ok=True)
        binp = os.path.join(a.build, "fuzz", f"fuzz_{n}")
        # -merge=1 copies into dest only the inputs that add coverage to it
        with open(os.path.join(a.state, f"{n}.merge.log"), "w") as lf:
            rc = subprocess.call([binp, "-merge=1", "-timeout=10", "-rss_limit_mb=2048", dest,
                                  os.path.join(a.state, "corpus", n)],
                                 stdout=lf, stderr=subprocess.STDOUT)
        if rc != 0:
            sys.exit(f"fuzz_campaign: corpus merge of {n} failed (see {lf.name})")
    tmp = os.path.join(a.export, "state.json.tmp")
    with open(tmp, "w") as f:
        json.dump(ledger, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, os.path.join(a.export, "state.json"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cpu-seconds", type=float, default=1800)
    ap.add_argument("--build", default=os.path.join(ROOT, "build-fuzz"))
    ap.add_argument("--state", default=os.path.join(ROOT, "build-fuzz", "campaign"))
    ap.add_argument("--only", default="")
    ap.add_argument("--budget-seconds", type=float, default=0)
    ap.add_argument("--slice", type=float, default=600,
                    help="CPU seconds per target per turn (round robin)")
    ap.add_argument("--import", dest="imp", default="",
                    help="start targets new to --state from this campaign directory")
    ap.add_argument("--export", default="",
                    help="merge runs and minimized corpora into this campaign directory")
    a = ap.parse_args()

    names = sorted(f[len("fuzz_"):-2] for f in os.listdir(os.path.join(ROOT, "fuzz"))
                   if f.startswith("fuzz_") and f.endswith(".c"))
    if a.only:
        want = set(a.only.split(","))
        unknown = want - set(names)
        if unknown:
            sys.exit(f"fuzz_campaign: unknown targets: {', '.join(sorted(unknown))}")
        names = [n for n in a.only.split(",") if n in want]  # the order given is the priority
    os.makedirs(a.state, exist_ok=True)
    state_path = os.path.join(a.state, "state.json")
    state = {}
    if os.path.exists(state_path):
        with open(state_path) as f:
            state = json.load(f)

    def save():
        tmp = state_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, state_path)

    for n in names:
        binp = os.path.join(a.build, "fuzz", f"fuzz_{n}")
        if not os.access(binp, os.X_OK):
            sys.exit(f"fuzz_campaign: no binary {binp} (run `make fuzz` first)")
        seeds = os.path.join(ROOT, "fuzz", "corpus", n)
        corpus = os.path.join(a.state, "corpus", n)
        if not os.path.isdir(corpus):
            os.makedirs(corpus)
            for s in os.listdir(seeds):
                shutil.copy(os.path.join(seeds, s), corpus)
            kept = os.path.join(a.imp, "corpus", n) if a.imp else ""
            if kept and os.path.isdir(kept):
                for s in os.listdir(kept):
                    shutil.copy(os.path.join(kept, s), corpus)
        if n not in state and a.imp:
            prior = load_ledger(a.imp).get(n)
            if prior:
                state[n] = prior
        state.setdefault(n, {"cpu": 0.0, "execs": 0, "runs": []})
    save()

    start = time.time()
    stop = False
    interactive = sys.stderr.isatty()
    while not stop:
        todo = [n for n in names if state[n]["cpu"] < a.cpu_seconds]
        if not todo:
            break
        n = min(todo, key=lambda t: state[t]["cpu"])
        allow = min(a.slice, a.cpu_seconds - state[n]["cpu"])
        binp = os.path.join(a.build, "fuzz", f"fuzz_{n}")
        corpus = os.path.join(a.state, "corpus", n)
        findings = os.path.join(a.state, "findings", n)
        os.makedirs(findings, exist_ok=True)
        log = os.path.join(a.state, f"{n}.log")
        with open(log, "w") as lf:
            p = subprocess.Popen([binp, "-timeout=10", "-rss_limit_mb=2048",
                                  "-print_final_stats=1", f"-artifact_prefix={findings}/",
                                  corpus], stdout=lf, stderr=subprocess.STDOUT)
        used = 0.0
        while p.poll() is None:
            time.sleep(2)
            c = cpu_seconds(p.pid)
            if c is not None:
                used = c
            if interactive:
                print(f"\r{n:18s} {state[n]['cpu'] + used:8.0f} / {a.cpu_seconds:.0f} CPU s",
                      end="", file=sys.stderr, flush=True)
            over_budget = a.budget_seconds and time.time() - start >= a.budget_seconds
            if used >= allow or over_budget:
                if over_budget:
                    stop = True
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if interactive:
            print(file=sys.stderr)
        with open(log, errors="replace") as f:
            text = f.read()
        m = re.findall(r"stat::number_of_executed_units:\s*(\d+)", text)
        execs = int(m[-1]) if m else 0
        crashed = p.returncode not in (0, 72, -signal.SIGINT, 130) or any(
            os.scandir(findings))
        st = state[n]
        st["cpu"] += used
        st["execs"] += execs
        st["runs"].append({"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           "cpu": round(used, 1), "execs": execs, "rc": p.returncode,
                           "binary": file_hash(binp)})
        if crashed:
            st["finding"] = log
            st["cpu"] = max(st["cpu"], a.cpu_seconds)  # do not run it again blindly
        save()

    if a.export:
        export(a, names, state)

    fail = 0
    print(f"{'target':22s} {'CPU s':>8s} {'execs':>12s} {'corpus':>7s} {'runs':>5s}  result")
    for n in names:
        st = state[n]
        ncorp = len(os.listdir(os.path.join(a.state, "corpus", n)))
        res = "FINDING: see " + st["finding"] if st.get("finding") else (
            "done" if st["cpu"] >= a.cpu_seconds else "partial")
        if st.get("finding"):
            fail = 1
        print(f"{n:22s} {st['cpu']:8.0f} {st['execs']:12d} {ncorp:7d} {len(st['runs']):5d}  {res}")
    return fail


if __name__ == "__main__":
    sys.exit(main())
