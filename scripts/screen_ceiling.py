#!/usr/bin/env python3
"""How far could a better name frequency take screening? (docs/link.md,
"The ceiling of the list format").

Entries listed without a date of birth give the name, sex and citizenship
only; the score weighs the name by its rarity on the list itself (name_bits,
from the list's 10,000 entries). This script replaces that rarity with a
reference frequency counted on a far larger sample of the same kind of
entries (REF: `perimeter synth watchlist --size 400000 --hits 0` with another
seed, i.e. the frequency the generator itself draws names with: more than any
real agency could know), once for the full name (surname + first given name)
and once token by token, and then searches every pair of thresholds (dated
entries as the tool scores them, undated with the replaced rarity, uncapped)
for the most seeded people found, summed over the sets, at a false-hit budget
per 1,000 clean travellers. The same search with the list's own rarity is
the baseline.

The rules are those of `screen --truth` (src/link/screen_run.c): a seeded
person is found when one of their records hits their own entry; a clean
person is falsely hit when any record hits anything.

Usage: screen_ceiling.py REF DIR... [--budget 5]
DIR: a set of scripts/screen_make_set.sh (rows80.csv, mt.csv, wlt.csv, wl.csv,
m.csv). Tuning sets only.
"""
import argparse, collections, csv, math, re


def nrm(x):
    return re.sub('[^A-Z]', '', x.upper())


def first(g):
    return nrm((g.split() or [''])[0])


def reference(path):
    full, sur, giv = collections.Counter(), collections.Counter(), collections.Counter()
    n = 0
    with open(path, newline='') as f:
        for r in csv.DictReader(f):
            full[nrm(r['surname']) + '|' + first(r['given_names'])] += 1
            sur[nrm(r['surname'])] += 1
            giv[first(r['given_names'])] += 1
            n += 1
    return full, sur, giv, n


def load(d, ref):
    full, sur, giv, n = ref
    per = {}
    with open(d + '/mt.csv', newline='') as f:
        for r in csv.DictReader(f):
            per[r['flight_id'] + ':' + r['passenger_seq']] = r['person_id']
    ep = {}
    with open(d + '/wlt.csv', newline='') as f:
        for r in csv.DictReader(f):
            if r['person_id']:
                ep[r['watchlist_id']] = r['person_id']
    man = {}
    with open(d + '/m.csv', newline='') as f:
        for r in csv.DictReader(f):
            man[r['flight_id'] + ':' + r['passenger_seq']] = r
    people = set(per.values())
    seeded = set(ep.values()) & people
    clean = people - seeded
    pairs = []  # (person, own, undated, base score, list bits, full bits, token bits)
    with open(d + '/rows80.csv', newline='') as f:
        for r in csv.DictReader(f):
            p = per.get(r['record'])
            if p is None:
                continue
            own = ep.get(r['watchlist_id']) == p
            s = float(r['score'])
            m = re.search(r'name rarity ([0-9.]+) bits ([-+0-9.]+)', r['reasons'])
            if 'dob missing' not in r['reasons'] or not m:
                pairs.append((p, own, 0, s, 0, 0, 0, None))
                continue
            t = man[r['record']]
            k = nrm(t['surname']) + '|' + first(t['given_names'])
            fb = -math.log2((full[k] + 0.5) / n)
            tb = -math.log2((sur[nrm(t['surname'])] + 0.5) / n) - math.log2(
                (giv[first(t['given_names'])] + 0.5) / n)
            pairs.append((p, own, 1, s - float(m.group(2)), float(m.group(1)), fb, tb, cell(r['reasons'])))
    return pairs, seeded, clean


def cell(reasons):
    """Every field the score of an undated entry sees, discretised: name
    similarity (0.01), whether an alias or a romanisation variant agreed, the
    name's rarity (whole bits), sex, citizenship and document levels."""
    nm = re.match(r'name ([0-9.]+)', reasons)
    bits = re.search(r'rarity ([0-9.]+) bits', reasons)
    sx = re.search(r'sex (\w+)', reasons)
    ct = re.search(r'citizenship ([a-z ()]+?) ?[-+;]', reasons + ';')
    doc = re.search(r'document (\w+)', reasons)
    return (nm.group(1), 'alias' in reasons, 'romanisation' in reasons,
            int(float(bits.group(1))), sx.group(1) if sx else '',
            ct.group(1) if ct else '', doc.group(1) if doc else '')


def best(sets, which, budget):
    ns = sum(len(s[1]) for s in sets)
    nc = sum(len(s[2]) for s in sets)
    top = None
    for t0 in [92 + 0.5 * i for i in range(11)]:
        for t1 in [90 + 0.5 * i for i in range(91)]:
            found = hit = 0
            for pairs, seeded, clean in sets:
                fs, hs = set(), set()
                for p, own, und, s, lb, fb, tb, _ in pairs:
                    v = s + ((lb, fb, tb)[which] if und else 0)
                    if v < (t1 if und else t0):
                        continue
                    if p in seeded:
                        if own:
                            fs.add(p)
                    else:
                        hs.add(p)
                found += len(fs)
                hit += len(hs)
            if 1000.0 * hit / nc <= budget and (top is None or found > top[0]):
                top = (found, hit, t0, t1)
    return top, ns, nc


def apply_cells(sets, order, t0, budget=None):
    """Dated entries at t0, then undated cells in order; with a budget, stop
    before it is exceeded and return how many cells were taken."""
    nc = sum(len(s[2]) for s in sets)
    found = [set() for _ in sets]
    hit = [set() for _ in sets]
    for i, (pairs, seeded, clean) in enumerate(sets):
        for p, own, und, s, lb, fb, tb, c in pairs:
            if und or s < t0:
                continue
            if p not in seeded:
                hit[i].add(p)
            elif own:
                found[i].add(p)
    best = (sum(map(len, found)), sum(map(len, hit)), 0)
    rank = {c: n for n, c in enumerate(order)}
    by = collections.defaultdict(list)
    for i, (pairs, seeded, clean) in enumerate(sets):
        for p, own, und, s, lb, fb, tb, c in pairs:
            if und and c in rank:
                by[rank[c]].append((i, p, own, p in seeded))
    for n in range(len(order)):
        for i, p, own, sd in by[n]:
            if sd:
                if own:
                    found[i].add(p)
            else:
                hit[i].add(p)
        f, h = sum(map(len, found)), sum(map(len, hit))
        if budget is not None and 1000.0 * h / nc > budget:
            break
        best = (f, h, n + 1)
    return best


def fit_order(sets):
    """Cells with a true pair, best true / stranger ratio first."""
    tally = collections.defaultdict(lambda: [0, 0])
    for pairs, seeded, clean in sets:
        for p, own, und, s, lb, fb, tb, c in pairs:
            if not und:
                continue
            if p not in seeded:
                tally[c][1] += 1  # a stranger pair: a false hit if taken
            elif own:
                tally[c][0] += 1  # a true pair
    return sorted((c for c in tally if tally[c][0]),
                  key=lambda c: -(tally[c][0] / (tally[c][1] + 0.5)))


def any_rule_cv(sets, budget, t0):
    """The same rule fitted on all sets but one and applied to that one."""
    out = []
    for k in range(len(sets)):
        train = sets[:k] + sets[k + 1:]
        order = fit_order(train)
        _, _, ncell = apply_cells(train, order, t0, budget)
        f, h, _ = apply_cells([sets[k]], order[:ncell], t0)
        out.append((f, len(sets[k][1]), h, len(sets[k][2])))
    return out


def any_rule(sets, budget, t0):
    """An upper bound for any rule on the undated entries' fields: dated
    entries at the tool's threshold t0, then the cells of undated pairs
    added best first by their true / stranger ratio counted on the sets
    themselves (in-sample: more than any rule fitted elsewhere could get),
    while the false hits stay within the budget."""
    ns = sum(len(s[1]) for s in sets)
    nc = sum(len(s[2]) for s in sets)
    return apply_cells(sets, fit_order(sets), t0, budget), ns, nc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('ref')
    ap.add_argument('dirs', nargs='+')
    ap.add_argument('--budget', type=float, default=5.0)
    a = ap.parse_args()
    ref = reference(a.ref)
    sets = [load(d, ref) for d in a.dirs]
    for which, name in enumerate(['list rarity (the tool)', 'reference full-name frequency',
                                  'reference token frequencies']):
        (found, hit, t0, t1), ns, nc = best(sets, which, a.budget)
        print('%-32s found %d/%d = %.4f, false %d/%d = %.2f per 1,000 (thresholds %.1f / %.1f)' %
              (name, found, ns, found / ns, hit, nc, 1000.0 * hit / nc, t0, t1))
    for t0 in (94.0, 95.0):
        (found, hit, cells), ns, nc = any_rule(sets, a.budget, t0)
        print('%-32s found %d/%d = %.4f, false %d/%d = %.2f per 1,000 (dated at %.1f, %d cells)' %
              ('any rule on the fields, in-sample', found, ns, found / ns, hit, nc,
               1000.0 * hit / nc, t0, cells))
        for d, (f, n, h, c) in zip(a.dirs, any_rule_cv(sets, a.budget, t0)):
            print('  fitted on the other sets, on %-10s found %.4f, false %.2f per 1,000' %
                  (d, f / n, 1000.0 * h / c))


if __name__ == '__main__':
    main()
