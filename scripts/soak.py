#!/usr/bin/env python3
"""Soak of the node (issue 18): a CAN/USA pair on loopback under a steady load
for a set time, sampling memory and latency, then a plot.

Load (the soak's capacity point, docs/node.md "Soak"), all against CAN:
  - partner biographic queries from USA's certificate over --conns kept-alive
    connections, paced to --qps in total (each a disclosure-log append);
  - an officer importing --rows-per-s crossings a second (one request a
    second), which CAN's feed pushes on to USA;
  - an officer 1:N identify every 2 s against a gallery of --subjects enrolled
    at the start.
Every --sample s: RSS of both nodes (/proc/PID/status VmRSS), p50/p99 of the
query latency in the window, requests and errors. Writes DIR/soak.csv, plots
DIR/soak_rss.png and DIR/soak_latency.png (perimeter plot lines) and prints a
JSON summary: RSS and latency in the first and last minute, growth, errors.
Exit 1 on any error answer or lost connection.

usage: soak.py --bin build/perimeter [--seconds 600] [--qps 300] [--conns 8] [--dir DIR]
"""
import argparse
import base64
import http.client
import json
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def rss_kib(pid):
    try:
        for ln in open("/proc/%d/status" % pid):
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    except OSError:
        pass
    return 0


def pct(v, p):
    if not v:
        return 0.0
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))]


class Soak:
    def __init__(self, a):
        self.a = a
        self.bin = os.path.abspath(a.bin)
        self.dir = os.path.abspath(a.dir)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.lat = []          # query latencies (ms) of the current window
        self.done = {"query": 0, "import": 0, "identify": 0}
        self.errors = {"query": 0, "import": 0, "identify": 0}
        self.err_samples = []
        self.procs = {}

    def run(self, cmd, env=None):
        r = subprocess.run(cmd, cwd=self.dir, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr))
        return r.stdout

    def setup(self):
        os.makedirs(self.dir, exist_ok=True)
        pc, pu = free_ports(2)
        self.run([self.bin, "init", "--country", "CAN", "--partner", "USA", "--port", str(pc),
                  "--partner-port", str(pu), "pair"])
        self.port = pc
        self.agreement = self.run([self.bin, "agreement", "hash", "pair/CAN/agreement-USA.json"]).strip()
        env = dict(os.environ, PERIMETER_PASSWORD="correct-horse")
        self.run([self.bin, "officer", "add", "--config", "pair/CAN/node.json", "alice"], env=env)
        self.batches = []
        if self.a.rows_per_s > 0:  # 0: queries and identify only (the store does not grow)
            rows = self.a.rows_per_s * (self.a.seconds + 30)
            self.run([self.bin, "bench", "ingest", "--rows", str(rows), "--seed", "41",
                      "--country", "CAN", "--write-jsonl", "rows.jsonl"])
            lines = []
            for ln in open(os.path.join(self.dir, "rows.jsonl")):
                o = json.loads(ln)
                o["direction"] = "entry"
                lines.append(json.dumps(o, separators=(",", ":")))
            n = self.a.rows_per_s
            self.batches = ["\n".join(lines[i:i + n]) + "\n" for i in range(0, len(lines), n)]
        self.run([self.bin, "synth", "prints", "--fingers", str(self.a.subjects), "--impressions",
                  "2", "--seed", "9", "--out", "prints", "--threads", "2", "--size", "300x300"])
        pd = os.path.join(self.dir, "prints", "DB1_B")
        self.enrol_tpl, self.probe_tpl = [], []
        for f in sorted(os.listdir(pd)):
            if f.endswith(".png"):
                out = os.path.join(pd, f[:-4] + ".iso")
                self.run([self.bin, "extract", os.path.join(pd, f), "-o", out, "--format", "iso"])
                b = base64.b64encode(open(out, "rb").read()).decode()
                (self.enrol_tpl if f.endswith("_1.png") else self.probe_tpl).append(b)
        cafile = os.path.join(self.dir, "pair", "CAN", "ca", "ca.pem")
        self.ctx_off = ssl.create_default_context(cafile=cafile)
        self.ctx_par = ssl.create_default_context(cafile=cafile)
        self.ctx_par.load_cert_chain(os.path.join(self.dir, "pair", "USA", "node.pem"),
                                     os.path.join(self.dir, "pair", "USA", "node.key"))

    def start(self, cc):
        log = open(os.path.join(self.dir, cc + ".log"), "ab")
        p = subprocess.Popen([self.bin, "serve", "--config",
                              os.path.join(self.dir, "pair", cc, "node.json")],
                             stdout=log, stderr=log)
        self.procs[cc] = p
        port = json.load(open(os.path.join(self.dir, "pair", cc, "node.json")))["listen"]["port"]
        ctx = ssl.create_default_context(cafile=os.path.join(self.dir, "pair", cc, "ca", "ca.pem"))
        for _ in range(600):
            try:
                c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    return
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
        raise RuntimeError("%s did not start" % cc)

    def db_mib(self):
        t = 0
        for suffix in ("", "-wal"):
            try:
                t += os.path.getsize(os.path.join(self.dir, "pair", "CAN", "perimeter.db" + suffix))
            except OSError:
                pass
        return t / 1048576.0

    def conn(self, ctx):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=30)

    def officer_call(self, c, method, path, body, ctype):
        c.request(method, path, body=body, headers={"Content-Type": ctype,
                                                    "Authorization": "Bearer " + self.token})
        r = c.getresponse()
        return r.status, r.read()

    def note_error(self, kind, what):
        with self.lock:
            self.errors[kind] += 1
            if len(self.err_samples) < 10:
                self.err_samples.append("%s: %s" % (kind, what))

    def querier(self, k):
        c = self.conn(self.ctx_par)
        period = self.a.conns / float(self.a.qps)
        nxt = time.time() + k * period / self.a.conns
        i = 0
        while not self.stop.is_set():
            now = time.time()
            if now < nxt:
                time.sleep(nxt - now)
            nxt += period
            i += 1
            body = json.dumps({"transaction_id": "soak-%d-%d" % (k, i), "purpose": "ASYLUM",
                               "surname": "Nguyen", "date_of_birth": "1975-04-20"})
            t0 = time.perf_counter()
            try:
                c.request("POST", "/v1/partner/query/biographic", body=body,
                          headers={"Content-Type": "application/json",
                                   "Perimeter-Agreement": self.agreement})
                r = c.getresponse()
                r.read()
                ms = (time.perf_counter() - t0) * 1000
                if r.status != 200:
                    self.note_error("query", "HTTP %d" % r.status)
                else:
                    with self.lock:
                        self.lat.append(ms)
                        self.done["query"] += 1
            except (OSError, http.client.HTTPException) as ex:
                self.note_error("query", repr(ex))
                c.close()
                c = self.conn(self.ctx_par)

    def importer(self):
        c = self.conn(self.ctx_off)
        b = 0
        nxt = time.time()
        while not self.stop.is_set() and b < len(self.batches):
            now = time.time()
            if now < nxt:
                time.sleep(nxt - now)
            nxt += 1.0
            try:
                st, body = self.officer_call(c, "POST", "/v1/crossings", self.batches[b],
                                             "application/x-ndjson")
                b += 1
                if st != 200:
                    self.note_error("import", "HTTP %d %s" % (st, body[:100]))
                else:
                    with self.lock:
                        self.done["import"] += 1
            except (OSError, http.client.HTTPException) as ex:
                self.note_error("import", repr(ex))
                c.close()
                c = self.conn(self.ctx_off)

    def identifier(self):
        c = self.conn(self.ctx_off)
        i = 0
        while not self.stop.wait(2.0):
            body = json.dumps({"fingers": [{"format": "iso19794-2",
                                            "data": self.probe_tpl[i % len(self.probe_tpl)]}],
                               "max_candidates": 3})
            i += 1
            try:
                st, b = self.officer_call(c, "POST", "/v1/gallery/identify", body, "application/json")
                if st != 200:
                    self.note_error("identify", "HTTP %d %s" % (st, b[:100]))
                else:
                    with self.lock:
                        self.done["identify"] += 1
            except (OSError, http.client.HTTPException) as ex:
                self.note_error("identify", repr(ex))
                c.close()
                c = self.conn(self.ctx_off)

    def main(self):
        self.setup()
        self.start("USA")
        self.start("CAN")
        c = self.conn(self.ctx_off)
        c.request("POST", "/v1/auth/login", body=json.dumps({"username": "alice",
                                                             "password": "correct-horse"}),
                  headers={"Content-Type": "application/json"})
        self.token = json.loads(c.getresponse().read())["token"]
        for s, tpl in enumerate(self.enrol_tpl):
            st, b = self.officer_call(c, "POST", "/v1/gallery/enrol", json.dumps(
                {"subject": s + 1, "fingers": [{"position": 2, "format": "iso19794-2",
                                                "data": tpl}]}), "application/json")
            if st != 200:
                raise RuntimeError("enrol: %d %s" % (st, b))
        c.close()
        ts = [threading.Thread(target=self.querier, args=(k,)) for k in range(self.a.conns)]
        ts += [threading.Thread(target=self.importer), threading.Thread(target=self.identifier)]
        for t in ts:
            t.start()
        t0 = time.time()
        csv = open(os.path.join(self.dir, "soak.csv"), "w")
        csv.write("t_s,can_rss_mib,usa_rss_mib,query_p50_ms,query_p99_ms,queries_per_s,errors,"
                  "can_db_mib\n")
        rows = []
        last_q = 0
        try:
            while time.time() - t0 < self.a.seconds:
                time.sleep(self.a.sample)
                with self.lock:
                    lat, self.lat = self.lat, []
                    q = self.done["query"]
                    errs = sum(self.errors.values())
                for cc, p in self.procs.items():
                    if p.poll() is not None:
                        raise RuntimeError("%s exited %d during the soak" % (cc, p.returncode))
                row = (round(time.time() - t0, 1), rss_kib(self.procs["CAN"].pid) / 1024.0,
                       rss_kib(self.procs["USA"].pid) / 1024.0, pct(lat, 50), pct(lat, 99),
                       (q - last_q) / float(self.a.sample), errs, self.db_mib())
                last_q = q
                rows.append(row)
                csv.write("%.1f,%.1f,%.1f,%.2f,%.2f,%.1f,%d,%.1f\n" % row)
                csv.flush()
                if sys.stderr.isatty():
                    sys.stderr.write("\r%5.0f s  CAN %.0f MiB  USA %.0f MiB  p50 %.1f ms  p99 %.1f ms"
                                     "  %.0f q/s  errors %d  db %.0f MiB  " % row)
        finally:
            self.stop.set()
            for t in ts:
                t.join()
            csv.close()
            for p in self.procs.values():
                p.send_signal(signal.SIGTERM)
            for cc, p in self.procs.items():
                rc = p.wait(timeout=120)
                if rc != 0:
                    self.note_error("query", "%s exited %d on SIGTERM" % (cc, rc))
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        for name, cols, yl in (("soak_rss.png", "can_rss_mib,usa_rss_mib", "RSS MIB"),
                               ("soak_latency.png", "query_p50_ms,query_p99_ms", "MS")):
            self.run([self.bin, "plot", "lines", "--x", "t_s", "--y", cols, "--title",
                      "SOAK %d S: %s" % (self.a.seconds, "MEMORY" if "rss" in name else
                                         "PARTNER QUERY LATENCY"),
                      "--xlabel", "SECONDS", "--ylabel", yl, "-o", name, "soak.csv"])
        per_min = max(1, int(60 / self.a.sample))
        first, last = rows[:per_min], rows[-per_min:]

        def mean(rs, i):
            return round(statistics.mean(r[i] for r in rs), 2)
        summary = {
            "seconds": self.a.seconds, "target_qps": self.a.qps, "conns": self.a.conns,
            "rows_per_s": self.a.rows_per_s, "subjects": len(self.enrol_tpl),
            "done": self.done, "errors": self.errors, "error_samples": self.err_samples,
            "can_rss_mib_first_min": mean(first, 1), "can_rss_mib_last_min": mean(last, 1),
            "usa_rss_mib_first_min": mean(first, 2), "usa_rss_mib_last_min": mean(last, 2),
            "can_rss_max_mib": round(max(r[1] for r in rows), 1),
            "can_db_mib_first_min": mean(first, 7), "can_db_mib_last_min": mean(last, 7),
            "query_p50_ms_first_min": mean(first, 3), "query_p50_ms_last_min": mean(last, 3),
            "query_p99_ms_first_min": mean(first, 4), "query_p99_ms_last_min": mean(last, 4),
            "query_p99_ms_worst_window": round(max(r[4] for r in rows), 2),
            "queries_per_s_mean": round(statistics.mean(r[5] for r in rows), 1),
            "csv": os.path.join(self.dir, "soak.csv"),
            "plots": [os.path.join(self.dir, "soak_rss.png"),
                      os.path.join(self.dir, "soak_latency.png")],
        }
        print(json.dumps(summary, indent=1))
        return 1 if sum(self.errors.values()) else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--qps", type=int, default=300)
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--rows-per-s", type=int, default=1000)
    ap.add_argument("--subjects", type=int, default=20)
    ap.add_argument("--sample", type=float, default=5.0)
    ap.add_argument("--dir", default="soak")
    sys.exit(Soak(ap.parse_args()).main())


if __name__ == "__main__":
    main()
