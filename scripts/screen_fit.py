#!/usr/bin/env python3
"""Fit the screening hit thresholds per date-of-birth group on a tuning set.

Input: rows of `perimeter screen --csv --name-only --min 80` (every candidate
scoring >= 80, with its reasons), the manifest truth (flight_id,
passenger_seq,person_id) and the watchlist truth (watchlist_id,person_id) of
the same set. A seeded person is found when one of their records hits their
own entry; a clean person is falsely hit when any record hits anything (the
rules of `screen --truth`, src/link/screen_run.c).

The groups are the dob term of the reasons ("dob exact", "dob missing", ...):
`--groups` prints, for each threshold pair (known-date threshold, missing-date
threshold), hits and false hits per 1,000 clean travellers; `--eval T0 T1`
prints the figure of one pair. Used on the tuning set only (docs/link.md).
"""
import csv, re, sys, argparse, collections

def load(rows, mt, wlt):
    person_of_rec = {}
    people = set()
    with open(mt, newline='') as f:
        for r in csv.DictReader(f):
            person_of_rec[r['flight_id'] + ':' + r['passenger_seq']] = r['person_id']
            people.add(r['person_id'])
    entry_person = {}
    with open(wlt, newline='') as f:
        for r in csv.DictReader(f):
            if r['person_id']:
                entry_person[r['watchlist_id']] = r['person_id']
    seeded = set(entry_person.values()) & people
    clean = people - seeded
    cands = []  # (person, own, missing_dob, score)
    with open(rows, newline='') as f:
        for r in csv.DictReader(f):
            p = person_of_rec.get(r['record'])
            if p is None:
                continue
            own = entry_person.get(r['watchlist_id']) == p
            m = re.search(r'dob (\w+)', r['reasons'])
            grp = 1 if m and m.group(1) == 'missing' else 0
            cands.append((p, own, grp, float(r['score'])))
    return cands, seeded, clean

def figure(cands, seeded, clean, t):
    found, hit = set(), set()
    for p, own, g, s in cands:
        if s < t[g]:
            continue
        if p in seeded:
            if own:
                found.add(p)
        else:
            hit.add(p)
    return len(found) / len(seeded), 1000.0 * len(hit) / len(clean)

def split(rows_wl, cands, seeded, clean, entry_person, t):
    """Hits and false hits apart for entries listed with and without a date."""
    undated_people = {entry_person[w] for w in rows_wl if w in entry_person and not rows_wl[w]}
    out = []
    for g in (0, 1):
        sg = {p for p in seeded if (p in undated_people) == (g == 1)}
        found = {p for p, own, gg, s in cands if gg == g and own and p in sg and s >= t[g]}
        hit = {p for p, own, gg, s in cands if gg == g and p in clean and s >= t[g]}
        out.append((len(sg), len(found) / max(1, len(sg)), 1000.0 * len(hit) / len(clean)))
    return out

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('rows'); ap.add_argument('mt'); ap.add_argument('wlt')
    ap.add_argument('--eval', nargs=2, type=float)
    ap.add_argument('--watchlist', help='wl.csv: with --eval, split by dated/undated entry')
    a = ap.parse_args()
    cands, seeded, clean = load(a.rows, a.mt, a.wlt)
    print(f'seeded {len(seeded)} clean {len(clean)} candidates {len(cands)}')
    if a.eval:
        h, fa = figure(cands, seeded, clean, a.eval)
        print(f'known>={a.eval[0]} missing>={a.eval[1]}: hits {h:.4f} false/1000 {fa:.2f}')
        if a.watchlist:
            with open(a.watchlist, newline='') as f:
                dob = {r['watchlist_id']: r['date_of_birth'] for r in csv.DictReader(f)}
            ep = {}
            with open(a.wlt, newline='') as f:
                for r in csv.DictReader(f):
                    if r['person_id']:
                        ep[r['watchlist_id']] = r['person_id']
            for name, (n, h, fa) in zip(('listed with a date', 'listed without a date'),
                                         split(dob, cands, seeded, clean, ep, a.eval)):
                print(f'  {name}: seeded {n} hits {h:.4f} false/1000 {fa:.2f}')
        return
    for t0 in range(90, 100):
        for t1 in range(88, 106):
            h, fa = figure(cands, seeded, clean, (t0, t1))
            print(f'{t0}\t{t1}\t{h:.4f}\t{fa:.2f}')

if __name__ == '__main__':
    main()
