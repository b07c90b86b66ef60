#!/usr/bin/env python3
"""Crash-safety harness of the node (issue 18).

Starts a CAN/USA pair on loopback (perimeter init + serve), drives CAN with
officer imports (POST /v1/crossings), gallery enrolments (POST
/v1/gallery/enrol), console actions (a supervisor's logins, POST
/v1/auth/login, and R14 review decisions, POST /v1/reviews/{id}/decision, the
calls the console's JS makes) and USA's partner queries (POST /v1/partner/query/biographic,
each one a disclosure-log append on CAN), while CAN's feed job pushes its
entries to USA. Meanwhile it SIGKILLs a node at random moments (CAN mostly,
USA every fourth time: the feed's receiving side; every other CAN kill waits
for a request of a chosen kind, import first, to be in flight), restarts it
and goes on.
At the end both nodes are restarted cleanly, the feed is let drain, and it
checks:
  - every acknowledged import row is in CAN's store exactly once, and no
    record id is stored twice;
  - USA holds every entry of CAN exactly once (the feed lost and duplicated
    nothing across the kills);
  - every acknowledged enrolment is in the store (templates and subject row),
    and the gallery the node loads at start holds exactly the store's
    templates (perimeter_gallery_size = rows of gallery_template), and each
    acknowledged subject verifies 1:1 through the node;
  - every acknowledged review decision is in the queue item (status,
    officer) and has exactly one R14 `review` entry in CAN's log; an
    unacknowledged one is either absent (item pending, no entry) or complete
    (item decided, one entry);
  - every acknowledged partner query has exactly one query/refusal entry in
    CAN's disclosure log, and both logs verify (perimeter audit verify).
Prints a JSON summary (kill points, what was in flight at each, acknowledged
writes, losses) and exits 1 on any loss or duplicate.

With --db postgresql, CAN's store is a database of a throwaway PostgreSQL
cluster (tests/pg_env.sh: its own data directory and loopback port, fsync on,
stopped at the end); USA stays on SQLite. Only the node is killed, never the
cluster.

usage: crash_harness.py --bin build/perimeter [--kills 50] [--seed 1] [--dir DIR]
                        [--db sqlite|postgresql]
"""
import argparse
import base64
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Node:
    def __init__(self, h, cc):
        self.h, self.cc = h, cc
        self.dir = os.path.join(h.dir, "pair", cc)
        cfg = json.load(open(os.path.join(self.dir, "node.json")))
        self.port = cfg["listen"]["port"]
        self.proc = None
        self.log = open(os.path.join(h.dir, cc + ".log"), "ab")
        self.starts = 0

    def start(self):
        self.proc = subprocess.Popen([self.h.bin, "serve", "--config",
                                      os.path.join(self.dir, "node.json")],
                                     stdout=self.log, stderr=self.log)
        self.starts += 1
        ctx = ssl.create_default_context(cafile=os.path.join(self.dir, "ca", "ca.pem"))
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s died at start (exit %s), see %s.log"
                                   % (self.cc, self.proc.returncode, self.cc))
            try:
                c = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    c.close()
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.05)
        raise RuntimeError("%s did not answer /health" % self.cc)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.proc.wait(timeout=120)
            if rc != 0:
                raise RuntimeError("%s exited %d on SIGTERM" % (self.cc, rc))


class Harness:
    def __init__(self, a):
        self.bin = os.path.abspath(a.bin)
        self.dir = os.path.abspath(a.dir)
        self.rng = random.Random(a.seed)
        self.kills_wanted = a.kills
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.up = threading.Event()  # CAN is serving and the token is fresh
        self.token = None
        self.next_batch = 0
        self.next_subject = 1
        self.next_txn = 1
        self.acked_rows = set()
        self.acked_subjects = []
        self.acked_txns = []
        kinds = ("import", "enrol", "query", "login", "decide")
        self.inflight = dict.fromkeys(kinds, 0)
        self.sent = dict.fromkeys(kinds, 0)
        self.errors = dict.fromkeys(kinds, 0)
        self.sup_token = None
        self.login_status = {}  # HTTP status -> supervisor logins answered with it
        self.next_review = 0
        self.acked_decisions = {}  # review id -> "confirmed" | "rejected"
        self.kill_points = []

    def run(self, cmd, **kw):
        r = subprocess.run(cmd, cwd=self.dir, capture_output=True, text=True, **kw)
        if r.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr))
        return r.stdout

    def setup(self, rows, fingers):
        os.makedirs(self.dir, exist_ok=True)
        pc, pu = free_ports(2)
        self.run([self.bin, "init", "--country", "CAN", "--partner", "USA", "--port", str(pc),
                  "--partner-port", str(pu), "pair"])
        # small feed pushes at a short interval, so kills land inside deliveries
        p = os.path.join(self.dir, "pair", "CAN", "node.json")
        cfg = json.load(open(p))
        cfg.setdefault("limits", {}).update({"feed_batch": 100, "feed_interval_ms": 50,
                                             "feed_backoff_max_ms": 500})
        json.dump(cfg, open(p, "w"), indent=1)
        self.can_db = os.path.join("pair", "CAN", "perimeter.db")
        if self.db == "postgresql":
            src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            self.pg_env = os.path.join(src, "tests", "pg_env.sh")
            self.pg_dir = os.path.join(self.dir, "pgc")
            os.makedirs(self.pg_dir, exist_ok=True)
            uri = self.run(["bash", self.pg_env, "start", self.pg_dir, "--watch",
                            str(os.getpid())]).strip()
            self.pg_started = True
            self.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", uri, "-c", "CREATE DATABASE can_node"])
            self.can_db = uri.rsplit("/", 1)[0] + "/can_node"
            cfg["store"] = self.can_db
            json.dump(cfg, open(p, "w"), indent=1)
        self.agreement = self.run([self.bin, "agreement", "hash",
                                   "pair/CAN/agreement-USA.json"]).strip()
        env = dict(os.environ, PERIMETER_PASSWORD="correct-horse")
        self.run([self.bin, "officer", "add", "--config", p, "alice"], env=env)
        self.run([self.bin, "officer", "add", "--config", p, "--role", "supervisor", "sam"],
                 env=env)
        # R14 review items for the supervisor to decide through the console's API
        self.reviews = []
        for i in range(self.n_reviews):
            out = self.run([self.bin, "review", "add", "--db", self.can_db,
                            "--agreement", "pair/CAN/agreement-USA.json",
                            "--log", "pair/CAN/audit.log", "--ours", "CAN",
                            "--txn", "crash-r-%06d" % i, "--purpose", "ASYLUM",
                            "--subject", "subj-%d" % i, "--action", "refuse entry",
                            "--partner", "USA", "--score", "60"])
            self.reviews.append(int(out.strip()))
        self.run([self.bin, "bench", "ingest", "--rows", str(rows), "--seed", "31", "--country",
                  "CAN", "--write-jsonl", "rows.jsonl"])
        lines = []
        for ln in open(os.path.join(self.dir, "rows.jsonl")):
            o = json.loads(ln)
            o["direction"] = "entry"
            lines.append(json.dumps(o, separators=(",", ":")))
        self.batches = [lines[i:i + 25] for i in range(0, len(lines), 25)]
        self.run([self.bin, "synth", "prints", "--fingers", str(fingers), "--impressions", "1",
                  "--seed", "7", "--out", "prints", "--threads", "2", "--size", "300x300"])
        self.templates = []
        pd = os.path.join(self.dir, "prints", "DB1_B")
        for f in sorted(os.listdir(pd)):
            if f.endswith(".png"):
                out = os.path.join(pd, f[:-4] + ".iso")
                self.run([self.bin, "extract", os.path.join(pd, f), "-o", out, "--format", "iso"])
                self.templates.append(base64.b64encode(open(out, "rb").read()).decode())
        self.can = Node(self, "CAN")
        self.usa = Node(self, "USA")
        self.ctx_off = ssl.create_default_context(cafile=os.path.join(self.can.dir, "ca", "ca.pem"))
        self.ctx_par = ssl.create_default_context(cafile=os.path.join(self.can.dir, "ca", "ca.pem"))
        self.ctx_par.load_cert_chain(os.path.join(self.usa.dir, "node.pem"),
                                     os.path.join(self.usa.dir, "node.key"))

    # ---- requests
    def call(self, ctx, method, path, body, headers, timeout=30):
        c = http.client.HTTPSConnection("127.0.0.1", self.can.port, context=ctx, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def login(self):
        st, b = self.call(self.ctx_off, "POST", "/v1/auth/login",
                          json.dumps({"username": "alice", "password": "correct-horse"}),
                          {"Content-Type": "application/json"})
        if st != 200:
            raise RuntimeError("login: HTTP %d %s" % (st, b[:200]))
        self.token = json.loads(b)["token"]
        self.sup_token = self.sup_login()

    def sup_login(self):
        st, b = self.call(self.ctx_off, "POST", "/v1/auth/login",
                          json.dumps({"username": "sam", "password": "correct-horse"}),
                          {"Content-Type": "application/json"})
        with self.lock:
            self.login_status[st] = self.login_status.get(st, 0) + 1
        if st != 200:
            raise RuntimeError("login sam: HTTP %d %s" % (st, b[:200]))
        return json.loads(b)["token"]

    def one_op(self, kind):
        with self.lock:
            if kind == "import":
                if self.next_batch >= len(self.batches):
                    return
                key, self.next_batch = self.next_batch, self.next_batch + 1
            elif kind == "enrol":
                key, self.next_subject = self.next_subject, self.next_subject + 1
            elif kind == "decide":
                if self.next_review >= len(self.reviews):
                    return
                key, self.next_review = self.reviews[self.next_review], self.next_review + 1
            elif kind == "login":
                key = None
            else:
                key, self.next_txn = "crash-q-%06d" % self.next_txn, self.next_txn + 1
            self.inflight[kind] += 1
            self.sent[kind] += 1
            tok = self.token
            sup = self.sup_token
        ok = False
        try:
            if kind == "import":
                body = "\n".join(self.batches[key]) + "\n"
                st, _ = self.call(self.ctx_off, "POST", "/v1/crossings", body,
                                  {"Content-Type": "application/x-ndjson",
                                   "Authorization": "Bearer " + tok})
                ok = st == 200
            elif kind == "enrol":
                tpl = self.templates[key % len(self.templates)]
                body = json.dumps({"subject": key, "person": {"surname": "Crash%d" % key},
                                   "fingers": [{"position": 2, "format": "iso19794-2",
                                                "data": tpl}]})
                st, _ = self.call(self.ctx_off, "POST", "/v1/gallery/enrol", body,
                                  {"Content-Type": "application/json",
                                   "Authorization": "Bearer " + tok})
                ok = st == 200
            elif kind == "login":  # a console login in flight at a kill
                t = self.sup_login()
                ok = True
                with self.lock:
                    self.sup_token = t
            elif kind == "decide":
                verdict = "confirm" if key % 2 else "reject"
                body = json.dumps({"decision": verdict, "why": "crash harness %d" % key})
                st, _ = self.call(self.ctx_off, "POST", "/v1/reviews/%d/decision" % key, body,
                                  {"Content-Type": "application/json",
                                   "Authorization": "Bearer " + sup})
                ok = st == 200
            else:
                body = json.dumps({"transaction_id": key, "purpose": "ASYLUM",
                                   "surname": "Nguyen", "date_of_birth": "1975-04-20"})
                st, _ = self.call(self.ctx_par, "POST", "/v1/partner/query/biographic", body,
                                  {"Content-Type": "application/json",
                                   "Perimeter-Agreement": self.agreement})
                ok = st in (200, 403)  # answered: the query or its refusal is logged
        except (OSError, http.client.HTTPException, RuntimeError):
            ok = False
        with self.lock:
            self.inflight[kind] -= 1
            if ok:
                if kind == "import":
                    for ln in self.batches[key]:
                        self.acked_rows.add(json.loads(ln)["record_id"])
                elif kind == "enrol":
                    self.acked_subjects.append(key)
                elif kind == "decide":
                    self.acked_decisions[key] = "confirmed" if key % 2 else "rejected"
                elif kind == "login":
                    pass
                else:
                    self.acked_txns.append(key)
            else:
                self.errors[kind] += 1
                if kind == "import":  # not acknowledged: the rows may or may not be stored
                    pass

    def worker(self, wid):
        r = random.Random(wid * 7919 + 1)
        while not self.stop_flag.is_set():
            if not self.up.wait(0.2):
                continue
            x = r.random()
            self.one_op("import" if x < 0.35 else "enrol" if x < 0.55 else "query" if x < 0.75
                        else "decide" if x < 0.92 else "login")

    def drive(self):
        self.usa.start()
        self.can.start()
        self.login()
        self.up.set()
        ws = [threading.Thread(target=self.worker, args=(i,)) for i in range(3)]
        for w in ws:
            w.start()
        try:
            # every other kill at CAN waits (up to 3 s) for a request of a chosen
            # kind to be in flight, so even a 4-kill run lands one inside an
            # import (the check the quick test makes); the rest are at random
            aims = ["import", "enrol", "decide", "query", "login"]
            for k in range(self.kills_wanted):
                time.sleep(self.rng.uniform(0.1, 0.7))
                victim = self.usa if k % 4 == 3 else self.can
                aim = aims[(k // 2) % len(aims)] if victim is self.can and k % 2 == 0 else None
                deadline = time.time() + 3.0
                while True:
                    with self.lock:
                        snap = dict(self.inflight)
                    if aim is None or snap[aim] or time.time() > deadline:
                        break
                    time.sleep(0.002)
                if victim is self.can:
                    self.up.clear()
                victim.kill()
                self.kill_points.append({"node": victim.cc, "t": round(time.time() - self.t0, 3),
                                         "in_flight": snap})
                time.sleep(self.rng.uniform(0.0, 0.2))
                victim.start()
                if victim is self.can:
                    self.login()
                    self.up.set()
            # after the last kill, the work goes on until every kind of write
            # has been acknowledged at least once (the checks need it; a short
            # run on a loaded machine may not have got there), 60 s at most
            deadline = time.time() + 60
            while time.time() < deadline:
                with self.lock:
                    done = (self.acked_rows and self.acked_subjects and self.acked_txns
                            and self.acked_decisions)
                if done:
                    break
                time.sleep(0.1)
        finally:
            self.stop_flag.set()
            self.up.set()
            for w in ws:
                w.join()

    # ---- checks
    def q(self, cc, sql):
        if cc == "CAN" and self.db == "postgresql":
            out = self.run(["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                            self.can_db, "-c", sql])
            rows = []
            for ln in out.splitlines():
                rows.append(tuple(int(v) if v.lstrip("-").isdigit() else v
                                  for v in ln.split("\t")))
            return rows
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.dir, "pair", cc, "perimeter.db"),
                             uri=True, timeout=30)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    def drain_feed(self):
        deadline = time.time() + 180
        while time.time() < deadline:
            mine = self.q("CAN", "SELECT count(*) FROM crossing WHERE origin IS NULL")[0][0]
            got = self.q("USA", "SELECT count(*) FROM crossing WHERE origin = 'CAN'")[0][0]
            if got >= mine:
                return
            time.sleep(0.5)

    def check(self):
        loss = []
        # imports: every acknowledged row exactly once
        rows = dict(self.q("CAN", "SELECT record_id, count(*) FROM crossing GROUP BY record_id"))
        missing = [r for r in self.acked_rows if r not in rows]
        dup = [r for r, n in rows.items() if n != 1]
        if missing:
            loss.append("import: %d acknowledged rows missing, e.g. %s" % (len(missing), missing[:3]))
        if dup:
            loss.append("import: %d record ids stored twice, e.g. %s" % (len(dup), dup[:3]))
        # feed: USA holds every CAN entry exactly once
        ours = set(r for (r,) in self.q("CAN", "SELECT record_id FROM crossing WHERE origin IS NULL"))
        theirs = self.q("USA", "SELECT record_id, count(*) FROM crossing WHERE origin = 'CAN' "
                        "GROUP BY record_id")
        tset = set(r for r, _ in theirs)
        if ours - tset:
            loss.append("feed: %d entries of CAN never reached USA" % len(ours - tset))
        if tset - ours:
            loss.append("feed: USA holds %d entries CAN does not have" % len(tset - ours))
        if any(n != 1 for _, n in theirs):
            loss.append("feed: USA stored some entries twice")
        # gallery: every acknowledged subject in the store; the loaded gallery = the store
        subj = set(s for (s,) in self.q("CAN", "SELECT DISTINCT subject FROM gallery_template"))
        srow = set(s for (s,) in self.q("CAN", "SELECT subject FROM gallery_subject"))
        ms = [s for s in self.acked_subjects if s not in subj or s not in srow]
        if ms:
            loss.append("enrol: %d acknowledged subjects missing, e.g. %s" % (len(ms), ms[:3]))
        ntpl = self.q("CAN", "SELECT count(*) FROM gallery_template")[0][0]
        st, b = self.call(self.ctx_off, "GET", "/metrics", None, {})
        size = None
        for ln in b.decode().splitlines():
            if ln.startswith("perimeter_gallery_size"):
                size = int(float(ln.split()[-1]))
        if size != ntpl:
            loss.append("gallery: the node loaded %s templates, the store holds %d" % (size, ntpl))
        self.verified = 0
        for s in self.rng.sample(self.acked_subjects, min(10, len(self.acked_subjects))):
            body = json.dumps({"subject": s, "fingers": [
                {"position": 2, "format": "iso19794-2",
                 "data": self.templates[s % len(self.templates)]}]})
            st, b = self.call(self.ctx_off, "POST", "/v1/gallery/verify", body,
                              {"Content-Type": "application/json",
                               "Authorization": "Bearer " + self.token})
            if st != 200 or json.loads(b).get("score", 0) < 40:
                loss.append("gallery: acknowledged subject %d does not verify: %d %s"
                            % (s, st, b[:120]))
            else:
                self.verified += 1
        # disclosure log: every acknowledged query exactly once; both logs verify
        count = {}
        rcount = {}
        for ln in open(os.path.join(self.can.dir, "audit.log"), "rb"):
            o = json.loads(ln[65:])
            if o.get("kind") == "review" and o.get("actor") == "sam":
                for r in o.get("records") or []:
                    rcount[r] = rcount.get(r, 0) + 1
            if o.get("kind") in ("query", "refusal") and o.get("txn", "").startswith("crash-q-"):
                count[o["txn"]] = count.get(o["txn"], 0) + 1
        lost = [t for t in self.acked_txns if count.get(t, 0) == 0]
        twice = [t for t, n in count.items() if n > 1]
        if lost:
            loss.append("log: %d acknowledged queries not logged, e.g. %s" % (len(lost), lost[:3]))
        if twice:
            loss.append("log: %d queries logged twice" % len(twice))
        # review decisions: acknowledged ones stored and logged once; others absent or complete
        items = {i: (s, o) for i, s, o in self.q("CAN", "SELECT id, status, officer FROM jobs_review")}
        self.decided_unacked = 0
        self.decided_unlogged = []
        for rid in self.reviews:
            st_, off = items.get(rid, (None, None))
            n = rcount.get("review:%d" % rid, 0)
            if rid in self.acked_decisions:
                if st_ != self.acked_decisions[rid] or off != "sam":
                    loss.append("review: acknowledged decision on %d not stored (%s, %s)"
                                % (rid, st_, off))
                if n != 1:
                    loss.append("review: acknowledged decision on %d logged %d times" % (rid, n))
            elif st_ == "pending":
                if n:
                    loss.append("review: pending item %d has %d decision entries" % (rid, n))
            else:
                self.decided_unacked += 1
                # a kill between the store's update and the log's append leaves the
                # decision owed to the log; the node's start appends it
                # (pm_review_recover), so after the restarts every one has exactly one
                if n == 0:
                    self.decided_unlogged.append(rid)
                if n != 1 or off != "sam":
                    loss.append("review: unacknowledged decision on %d incomplete (%s, %s, %d "
                                "log entries)" % (rid, st_, off, n))
        self.logged_unacked = len([t for t in count if t not in set(self.acked_txns)])
        for n in (self.can, self.usa):
            r = subprocess.run([self.bin, "audit", "verify", os.path.join(n.dir, "audit.log")],
                               capture_output=True, text=True)
            if r.returncode != 0:
                loss.append("log: %s's disclosure log does not verify: %s" % (n.cc, r.stdout + r.stderr))
        return loss

    def pg_stop(self):
        if getattr(self, "pg_started", False):
            subprocess.run(["bash", self.pg_env, "stop", self.pg_dir], capture_output=True)
            self.pg_started = False

    def main(self):
        self.t0 = time.time()
        try:
            self.drive()
            # clean restarts: the gallery is reloaded from the store, the feed drains
            self.can.stop()
            self.usa.stop()
            self.usa.start()
            self.can.start()
            self.login()
            self.drain_feed()
            loss = self.check()
        finally:
            for n in (self.can, self.usa):
                try:
                    n.stop()
                except Exception as ex:  # a dirty exit at the very end is reported, not hidden
                    print("stop %s: %s" % (n.cc, ex), file=sys.stderr)
            self.pg_stop()
        by_node = {"CAN": 0, "USA": 0}
        during = dict.fromkeys(self.sent, 0)
        for kp in self.kill_points:
            by_node[kp["node"]] += 1
            for k, v in kp["in_flight"].items():
                if v:
                    during[k] += 1
        summary = {
            "db": self.db,
            "kill_points": len(self.kill_points), "killed": by_node,
            "kills_with_request_in_flight": during,
            "sent": self.sent, "unanswered": self.errors,
            "acknowledged": {"import_rows": len(self.acked_rows),
                             "enrolments": len(self.acked_subjects),
                             "queries": len(self.acked_txns),
                             "review_decisions": len(self.acked_decisions),
                             "logins": self.sent["login"] - self.errors["login"]},
            "decisions_stored_unacknowledged": self.decided_unacked,
            "decisions_stored_unlogged_unacknowledged": self.decided_unlogged,
            "supervisor_login_answers": {str(k): v for k, v in sorted(self.login_status.items())},
            "feed_entries_at_usa": self.q("USA", "SELECT count(*) FROM crossing WHERE origin = 'CAN'")[0][0],
            "queries_logged_unacknowledged": self.logged_unacked,
            "subjects_verified": self.verified,
            "seconds": round(time.time() - self.t0, 1),
            "losses": loss,
        }
        print(json.dumps(summary, indent=1))
        return 1 if loss else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--fingers", type=int, default=4)
    ap.add_argument("--reviews", type=int, default=150)
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--dir", default="crash-harness")
    a = ap.parse_args()
    h = Harness(a)
    h.n_reviews = a.reviews
    h.db = a.db
    try:
        h.setup(a.rows, a.fingers)
    except BaseException:
        h.pg_stop()
        raise
    sys.exit(h.main())


if __name__ == "__main__":
    main()
