#!/usr/bin/env python3
"""Choose the two screening thresholds (entries listed with / without a date
of birth) on tuning sets, with leave-one-set-out cross-validation.

Each set is a directory written by scripts/screen_make_set.sh (rows80.csv,
mt.csv, wlt.csv, wl.csv). The rules are those of `screen --truth`
(src/link/screen_run.c): a seeded person is found when one of their records
hits their own entry; a clean person is a false hit when any record hits
anything. A candidate row is a hit when its score reaches the threshold of
its entry's kind: T0 for an entry listing a date of birth, T1 for one listed
without (pm_watchlist_entry_dated; the library's rule, not the pair's "dob
missing" level, which a traveller without a date also gives).

The choice: the pair (T0, T1) on the grid with the most hits, pooled over
the sets it is chosen on, subject to pooled false hits <= --budget per 1,000
clean travellers (ties: fewer false hits, then the higher T1, then the
higher T0).

usage: screen_fit_cv.py [--budget 4.5] [--eval T0 T1] DIR...
  without --eval: the choice on all DIRs, then each leave-one-out fold
  (chosen on the others, figure on the one left out);
  with --eval: the figure of one pair on each DIR and pooled, with 95%
  Wilson intervals, split by kind of entry.
"""
import argparse, csv, math, os

def load(d):
    person_of_rec, people = {}, set()
    with open(os.path.join(d, 'mt.csv'), newline='') as f:
        for r in csv.DictReader(f):
            person_of_rec[r['flight_id'] + ':' + r['passenger_seq']] = r['person_id']
            people.add(r['person_id'])
    entry_person = {}
    with open(os.path.join(d, 'wlt.csv'), newline='') as f:
        for r in csv.DictReader(f):
            if r['person_id']:
                entry_person[r['watchlist_id']] = r['person_id']
    dated = {}
    with open(os.path.join(d, 'wl.csv'), newline='') as f:
        for r in csv.DictReader(f):
            dated[r['watchlist_id']] = 1 if r['date_of_birth'].strip() else 0
    seeded = set(entry_person.values()) & people
    clean = people - seeded
    # the kind of a seeded person: the kind of their own entry
    kind_of = {}
    for w, p in entry_person.items():
        if p in seeded:
            kind_of[p] = 0 if dated.get(w, 0) else 1
    cands = []  # (person, own, kind of the entry, score)
    with open(os.path.join(d, 'rows80.csv'), newline='') as f:
        for r in csv.DictReader(f):
            p = person_of_rec.get(r['record'])
            if p is None:
                continue
            w = r['watchlist_id']
            cands.append((p, entry_person.get(w) == p, 0 if dated.get(w, 0) else 1,
                          float(r['score'])))
    return dict(name=os.path.basename(d.rstrip('/')), cands=cands, seeded=seeded, clean=clean,
                kind_of=kind_of)

def counts(s, t):
    """found seeded, false-hit clean, split by kind: dict of counts."""
    found, hit = set(), set()
    hitk = (set(), set())
    for p, own, k, sc in s['cands']:
        if sc < t[k]:
            continue
        if p in s['seeded']:
            if own:
                found.add(p)
        else:
            hit.add(p)
            hitk[k].add(p)
    out = dict(found=len(found), seeded=len(s['seeded']), false=len(hit), clean=len(s['clean']))
    for k in (0, 1):
        sk = [p for p in s['seeded'] if s['kind_of'].get(p) == k]
        out[f'seeded{k}'] = len(sk)
        out[f'found{k}'] = sum(1 for p in sk if p in found)
        out[f'false{k}'] = len(hitk[k])
    return out

def pooled(sets, t):
    tot = {}
    for s in sets:
        for k, v in counts(s, t).items():
            tot[k] = tot.get(k, 0) + v
    return tot

def wilson(k, n, z=1.96):
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    den = 1 + z * z / n
    c = (p + z * z / (2 * n)) / den
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, c - h), min(1.0, c + h))

T0S = [x / 2 for x in range(180, 211)]   # 90 .. 105
T1S = [x / 2 for x in range(170, 221)]   # 85 .. 110

def choose(sets, budget):
    # precompute per threshold kind independently is not exact (a clean
    # person hit through both kinds counts once), so evaluate each pair
    best = None
    for t0 in T0S:
        for t1 in T1S:
            c = pooled(sets, (t0, t1))
            fa = 1000.0 * c['false'] / c['clean']
            if fa > budget:
                continue
            key = (c['found'], -c['false'], t1, t0)
            if best is None or key > best[0]:
                best = (key, (t0, t1), c)
    return best

def fmt(c):
    h = c['found'] / c['seeded']
    fa = 1000.0 * c['false'] / c['clean']
    return f"hits {h:.4f} ({c['found']}/{c['seeded']}) false/1000 {fa:.2f} ({c['false']}/{c['clean']})"

def show(name, c):
    lo, hi = wilson(c['found'], c['seeded'])
    flo, fhi = wilson(c['false'], c['clean'])
    print(f"{name}: {fmt(c)}  hits 95% CI [{lo:.4f}, {hi:.4f}] false 95% CI "
          f"[{1000*flo:.2f}, {1000*fhi:.2f}]")
    for k, lab in ((0, 'listed with a date'), (1, 'listed without a date')):
        n = c[f'seeded{k}']
        print(f"    {lab}: seeded {n} hits {c[f'found{k}'] / max(1, n):.4f} "
              f"({c[f'found{k}']}/{n}) false/1000 {1000.0 * c[f'false{k}'] / c['clean']:.2f}")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('dirs', nargs='+')
    ap.add_argument('--budget', type=float, default=4.5)
    ap.add_argument('--eval', nargs=2, type=float)
    a = ap.parse_args()
    sets = [load(d) for d in a.dirs]
    if a.eval:
        t = tuple(a.eval)
        for s in sets:
            show(s['name'], counts(s, t))
        if len(sets) > 1:
            show('pooled', pooled(sets, t))
        return
    b = choose(sets, a.budget)
    print(f"chosen on all {len(sets)} sets (budget {a.budget}): T0 {b[1][0]} T1 {b[1][1]}: {fmt(b[2])}")
    for i, s in enumerate(sets):
        rest = sets[:i] + sets[i + 1:]
        bb = choose(rest, a.budget)
        c = counts(s, bb[1])
        print(f"fold leave out {s['name']}: chosen T0 {bb[1][0]} T1 {bb[1][1]} "
              f"(on the others {fmt(bb[2])}); left out: {fmt(c)}")

if __name__ == '__main__':
    main()
