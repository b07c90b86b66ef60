#!/usr/bin/env python3
"""Per-probe figures of bench_gallery_first (PM_FAST_PER_PROBE=1), by probe size.

  first_per_probe.py RUN            cost and misses by probe minutiae; with a
                                    baseline in RUN (PM_FAST_BASE_NOPAIR=1 and
                                    PM_FAST_PAIR=1), what the pair gate would
                                    cost and save if only probes of at least
                                    T minutiae used it
  first_per_probe.py RUN VARIANT    VARIANT (another build, same seed and
                                    sizes) against RUN, probe by probe: the
                                    median time ratio per size band (a band
                                    the variant does not touch is the control
                                    for the machine's noise between runs)

A "miss" is a mate without a hypothesis (fast score 1); "rank>=K" a mate not
among the best K (K = 5). docs/gallery.md "Where a search's time goes".
"""
import re
import statistics as st
import sys

LINE = re.compile(
    r"probe (\d+): (\d+) minutiae, ([\d.]+) us/record, (\d+) records with a hypothesis, "
    r"mate score (\d+) rank (\d+); baseline ([\d.]+) us/record, mate score (\d+) rank (\d+)")
BANDS = ((0, 40), (40, 48), (48, 55), (55, 65), (65, 1000))
K = 5


def load(path):
    rows = {}
    for line in open(path):
        m = LINE.match(line)
        if m:
            g = m.groups()
            rows[int(g[0])] = dict(n=int(g[1]), t=float(g[2]), s=int(g[4]), r=int(g[5]),
                                   bt=float(g[6]), bs=int(g[7]), br=int(g[8]))
    if not rows:
        sys.exit("%s: no per-probe lines (run with PM_FAST_PER_PROBE=1)" % path)
    return rows


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]


def main():
    a = load(sys.argv[1])
    base = any(r["bt"] > 0 for r in a.values())
    if len(sys.argv) == 2:
        print("probe minutiae | probes | us/record median | misses | rank>=%d%s" %
              (K, " | baseline us/record | baseline misses" if base else ""))
        for lo, hi in BANDS:
            b = [r for r in a.values() if lo <= r["n"] < hi]
            if not b:
                continue
            line = "%d-%d | %d | %.3f | %d | %d" % (lo, hi - 1, len(b), st.median(r["t"] for r in b),
                                                 sum(r["s"] == 1 for r in b), sum(r["r"] >= K for r in b))
            if base:
                line += " | %.3f | %d" % (st.median(r["bt"] for r in b), sum(r["bs"] == 1 for r in b))
            print(line)
        if base:
            print("\nthis run's mode only for probes of >= T minutiae, the baseline's below:")
            print("T | misses | rank>=%d | p50 | p95 | p99 | mean us/record" % K)
            for thr in (0, 40, 45, 50, 55, 60, 65, 70, 1000):
                ts, miss, lost = [], 0, 0
                for r in a.values():
                    on = r["n"] >= thr
                    ts.append(r["t"] if on else r["bt"])
                    miss += (r["s"] if on else r["bs"]) == 1
                    lost += (r["r"] if on else r["br"]) >= K
                print("%d | %d | %d | %.3f | %.3f | %.3f | %.3f" %
                      (thr, miss, lost, pct(ts, .5), pct(ts, .95), pct(ts, .99), sum(ts) / len(ts)))
        return
    b = load(sys.argv[2])
    common = [q for q in a if q in b]
    print("probe minutiae | probes | variant / run time (median) | baseline: variant / run")
    for lo, hi in BANDS:
        qs = [q for q in common if lo <= a[q]["n"] < hi]
        if qs:
            print("%d-%d | %d | %.3f | %s" % (lo, hi - 1, len(qs), st.median(b[q]["t"] / a[q]["t"] for q in qs),
                                          "%.3f" % st.median(b[q]["bt"] / a[q]["bt"] for q in qs) if base else "-"))
    for name, s, r in (("run's mode", "s", "r"), ("baseline", "bs", "br")):
        print("%s: misses %d -> %d, rank>=%d %d -> %d" %
              (name, sum(a[q][s] == 1 for q in common), sum(b[q][s] == 1 for q in common), K,
               sum(a[q][r] >= K for q in common), sum(b[q][r] >= K for q in common)))


if __name__ == "__main__":
    main()
