#!/usr/bin/env bash
# The cohort load run (issue 13 part 5): a synthetic refugee cohort vetted end
# to end through two real nodes on loopback - CAN's officer route, mutual TLS
# to USA's partner route, USA's policy, disclosure log and 1:N search of its
# gallery, the answer back, the case files, journal and CAN's review queue -
# then every case file checked against the generator's truth, and the rate.
#
#   scripts/cohort_load.sh BIN WORKDIR [--applicants N] [--known K] [--bad B]
#       [--seed S] [--cohort DIR] [--replicate R] [--workers W] [--an2k]
#       [--match-fpir F] [--partner-decoys N] [--decoy-seed S]
#
# The 25,000-applicant cohort: scripts/cohort_load.sh build/perimeter /tmp/c25k
#   --applicants 25000 --known 250 --bad 100   (generation alone is ~0.6 CPU s
#   per applicant; see bench/README.md "vet").
# --cohort DIR reuses a generated cohort; --replicate R submits each of its
# applicants R times under different ids (A000001-r01 ...: the same prints,
# so the same expected outcome): a way to measure a large cohort's vetting
# when generating that many distinct synthetic ten-prints takes too long.
# Replicated runs say so in their output.
# --partner-decoys N enrols N more fingers into USA's store before it starts
# (N/10 subjects x 10 positions, `perimeter synth templates`, template-level
# simulation, subject ids 1..N/10, far from the cohort's partner ids from
# 1,000,000), so USA's 1:N search runs against a gallery of realistic size;
# a decoy that matched an applicant would show as a false match in the truth
# check. Decoys are template-level while the applicants are image-level
# synthetic prints: the runs say so.
# --match-fpir F adds "match_fpir": F to both agreements (docs/agreement.md:
# USA's 1:N threshold then accounts for its gallery's size).
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$2
shift 2
applicants=200 known=10 bad=6 seed=2026 cohort= replicate=1 workers=2 an2k= match_fpir=
decoys=0 decoy_seed=9
while [ $# -gt 0 ]; do
    case $1 in
    --applicants) applicants=$2; shift 2 ;;
    --known) known=$2; shift 2 ;;
    --bad) bad=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --cohort) cohort=$2; shift 2 ;;
    --replicate) replicate=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --an2k) an2k=--an2k; shift ;;
    --match-fpir) match_fpir=$2; shift 2 ;;
    --partner-decoys) decoys=$2; shift 2 ;;
    --decoy-seed) decoy_seed=$2; shift 2 ;;
    *) echo "cohort_load: unknown option $1" >&2; exit 2 ;;
    esac
done
mkdir -p "$work"
cd "$work"
rm -rf pair vet-out run coh-r ./*.log
if [ -z "$cohort" ]; then
    cohort=$work/coh
    [ -f "$cohort/truth.csv" ] || "$bin" synth cohort --out "$cohort" --applicants "$applicants" \
        --known "$known" --bad "$bad" --seed "$seed" --threads 2
fi
cohort=$(cd "$cohort" && pwd)
run=$cohort
if [ "$replicate" -gt 1 ]; then
    # R submissions of each applicant (hard links: no copy of the data)
    run=$work/coh-r
    mkdir -p "$run/applicants"
    python3 - "$cohort" "$run" "$replicate" <<'PY'
import os, sys
src, dst, r = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = open(os.path.join(src, "truth.csv")).read().splitlines()
out = [rows[0]]
for line in rows[1:]:
    app, _, psub, capture, expected = line.split(",")
    for k in range(1, r + 1):
        name = "%s-r%0*d" % (app, len(str(r)), k)
        os.link(os.path.join(src, "applicants", app + ".an2"),
                os.path.join(dst, "applicants", name + ".an2"))
        out.append(",".join([name, "applicants/%s.an2" % name, psub, capture, expected]))
open(os.path.join(dst, "truth.csv"), "w").write("\n".join(out) + "\n")
PY
    echo "REPLICATED: $(($(wc -l <"$run/truth.csv") - 1)) submissions = $(($(wc -l <"$cohort/truth.csv") - 1)) distinct synthetic applicants x $replicate"
fi
total=$(($(wc -l <"$run/truth.csv") - 1))

# two nodes on free loopback ports
ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
read -r port_can port_usa <<<"$ports"
"$bin" init --country CAN --partner USA --port "$port_can" --partner-port "$port_usa" pair >init.log
# R13: the test agreement allows 20 biometric queries a day; a cohort needs
# one per applicant within the period, so both sides' copy (the same text,
# the same hash) is raised to the cohort's size
for f in pair/CAN/agreement-USA.json pair/USA/agreement-CAN.json; do
    jq --argjson n "$total" --arg fpir "$match_fpir" '.quota.biometric_query = ([.quota.biometric_query, $n] | max)
        | if $fpir == "" then . else .match_fpir = ($fpir | tonumber) end' "$f" >"$f.new"
    mv "$f.new" "$f"
done
cmp -s pair/CAN/agreement-USA.json pair/USA/agreement-CAN.json || { echo "cohort_load: agreements differ" >&2; exit 1; }
if [ "$decoys" -gt 0 ]; then
    [ -f "decoys-$decoys-$decoy_seed/enroll.csv" ] || "$bin" synth templates --out "decoys-$decoys-$decoy_seed" \
        --subjects $((decoys / 10)) --fingers 10 --probes 0 --seed "$decoy_seed" >/dev/null
    store=$(jq -r .store pair/USA/node.json)
    "$bin" enroll --db "pair/USA/$store" --list "decoys-$decoys-$decoy_seed/enroll.csv" >decoys.log
    echo "USA decoys: $(awk -F, 'NR > 1' "decoys-$decoys-$decoy_seed/enroll.csv" | wc -l) template-level synthetic fingers (seed $decoy_seed) enrolled before the start"
fi
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
for cc in CAN USA; do
    "$bin" serve --config "pair/$cc/node.json" 2>>"$cc.log" &
    pids+=($!)
done
for cc in CAN USA; do
    port=$port_can; [ $cc = USA ] && port=$port_usa
    for _ in $(seq 1 300); do
        curl -s -o /dev/null --cacert "pair/$cc/ca/ca.pem" "https://127.0.0.1:$port/health" && break
        sleep 0.2
    done
done
token() {
    PERIMETER_PASSWORD=load-pass-$2 "$bin" officer add --config "pair/$1/node.json" --replace \
        --role "$3" "$2" >/dev/null
    PERIMETER_PASSWORD=load-pass-$2 "$bin" officer login --config "pair/$1/node.json" --user "$2"
}
tok_can=$(token CAN claire supervisor)
tok_usa=$(token USA sam supervisor)
# USA holds its own encounters of the known applicants, enrolled through its officer route
for subj in $(awk -F, 'NR > 1 { print $1 }' "$cohort/partner/enroll.csv" | sort -u); do
    files=$(awk -F, -v s="$subj" -v d="$cohort/partner" 'NR > 1 && $1 == s { print d "/" $4 "@" $3 }' \
        "$cohort/partner/enroll.csv")
    # shellcheck disable=SC2086
    PERIMETER_TOKEN=$tok_usa "$bin" officer enrol --config pair/USA/node.json --subject "$subj" \
        $files --json >/dev/null
done
echo "USA gallery: $(awk -F, 'NR > 1' "$cohort/partner/enroll.csv" | wc -l) fingers of known applicants + $decoys decoys"
purpose=$(jq -r '.purposes[0]' pair/USA/agreement-CAN.json)
echo "load average at the start: $(cat /proc/loadavg)"
# CPU of all three processes (utime + stime from /proc/<pid>/stat, in clock
# ticks): the two nodes' before and after; the vet process's as its waiting
# shell's children time (fields 16 + 17) once it has exited
cpu_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
can0=$(cpu_of "${pids[0]}") usa0=$(cpu_of "${pids[1]}")
t0=$(date +%s.%N)
rc=0
# shellcheck disable=SC2016
PERIMETER_TOKEN=$tok_can bash -c '"$@"; rc=$?; awk "{ print \$16 + \$17 }" /proc/$$/stat >vet.cpu; exit $rc' \
    _ "$bin" vet "$run" --purpose "$purpose" --config pair/CAN/node.json \
    --partner USA --out vet-out --workers "$workers" $an2k >vet.txt 2>vet.err || rc=$?
t1=$(date +%s.%N)
can1=$(cpu_of "${pids[0]}") usa1=$(cpu_of "${pids[1]}")
echo "load average at the end: $(cat /proc/loadavg)"
cat vet.txt
# exit 3: stopped (SIGTERM/SIGINT to the vet process) with applicants pending:
# the figures are then over the applicants done, and say so
[ "$rc" = 0 ] || [ "$rc" = 3 ] || { echo "cohort_load: vet exit $rc: $(tail -5 vet.err)" >&2; exit 1; }
# every case file against the truth (one pass)
read -r ok bad_n < <(python3 - "$run/truth.csv" vet-out/cases <<'PY'
import json, os, sys
ok = bad = 0
for line in open(sys.argv[1]).read().splitlines()[1:]:
    app, expected = line.split(",")[0], line.split(",")[4]
    path = os.path.join(sys.argv[2], app + ".json")
    if not os.path.exists(path):
        continue
    if json.load(open(path))["outcome"] == expected:
        ok += 1
    else:
        bad += 1
print(ok, bad)
PY
)
if [ "$rc" = 3 ]; then
    echo "PARTIAL: stopped before the end; $((ok + bad_n)) of $total applicants done, figures over those"
    total=$((ok + bad_n))
fi
reviews=$(curl -s --cacert pair/CAN/ca/ca.pem -H "Authorization: Bearer $tok_can" \
    "https://127.0.0.1:$port_can/v1/reviews?status=pending" | jq '.reviews | length')
awk -v n="$total" -v a="$t0" -v b="$t1" -v ok="$ok" -v bad="$bad_n" -v rv="$reviews" 'BEGIN {
    s = b - a; rate = n * 3600 / s
    printf "cohort: %d applicants vetted end to end through the two nodes in %.1f s: %.0f applicants/hour (measured)\n", n, s, rate
    printf "truth: %d as the truth says, %d not; %d matches waiting in CAN'"'"'s review queue\n", ok, bad, rv
    printf "EXTRAPOLATED (linear, this machine at this load): 25,000 applicants in %.1f h\n", 25000 / rate
}'
awk -v n="$total" -v hz="$(getconf CLK_TCK)" -v v="$(cat vet.cpu)" -v c="$((can1 - can0))" \
    -v u="$((usa1 - usa0))" 'BEGIN {
    vs = v / hz; cs = c / hz; us = u / hz; t = vs + cs + us
    printf "CPU s per applicant: vet %.3f, CAN node %.3f, USA node %.3f; all processes %.3f (%.1f CPU s for %d)\n", vs / n, cs / n, us / n, t / n, t, n
    printf "EXTRAPOLATED (CPU only, 2 free cores): 25,000 applicants in %.2f h\n", 25000 * t / n / 2 / 3600
}'
