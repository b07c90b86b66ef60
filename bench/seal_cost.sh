#!/usr/bin/env bash
# Cost of sealing at rest (docs/security.md): enrolment of N synthetic
# templates into a fresh store, and a gallery load from the store (gallery
# rebuild: read + open + decode + insert, then the snapshot written), in
# clear and sealed, alternated R times; medians and the sealed/clear ratio,
# with the load average at the start and the end.
# Usage: bash bench/seal_cost.sh BIN [N] [R]
set -euo pipefail
P=${1:?perimeter binary}
N=${2:-5000}
R=${3:-3}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
unset PERIMETER_DATA_KEY PERIMETER_DATA_KEY_OLD
"$P" synth templates --out syn --subjects "$N" --fingers 1 --probes 1 --seed 3 > /dev/null
"$P" store keygen "$T/k.key" > /dev/null
echo "load average (start): $(cut -d' ' -f1-3 /proc/loadavg)"
now() { date +%s.%N; }
for r in $(seq "$R"); do
    for mode in clear sealed; do
        if [ $mode = sealed ]; then export PERIMETER_DATA_KEY="$T/k.key"; else unset PERIMETER_DATA_KEY; fi
        rm -f g.db* ; t0=$(now)
        "$P" enroll --db g.db --list syn/enroll.csv > /dev/null
        t1=$(now)
        "$P" gallery rebuild --db g.db > /dev/null
        t2=$(now)
        echo "$mode enrol $(echo "$t1 - $t0" | bc) load $(echo "$t2 - $t1" | bc)"
    done
done | tee runs.txt
echo "load average (end): $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$N" <<'PY'
import statistics, sys
n = int(sys.argv[1])
rows = [l.split() for l in open("runs.txt")]
med = {}
for mode in ("clear", "sealed"):
    for what, col in (("enrol", 2), ("load", 4)):
        med[mode, what] = statistics.median(float(r[col]) for r in rows if r[0] == mode)
for what in ("enrol", "load"):
    c, s = med["clear", what], med["sealed", what]
    print(f"{what}: {n} templates, clear {c:.3f} s, sealed {s:.3f} s, ratio {s / c:.3f} "
          f"({n / c:,.0f} vs {n / s:,.0f} templates/s)")
PY
