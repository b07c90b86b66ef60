#!/usr/bin/env python3
"""Which fields could separate true from stranger pairs on entries listed
without a date of birth? Counts, for the candidate pairs of undated entries
scoring 85..95 (the band where hits are decided), true and stranger pairs per
level of fields the list and the manifest give but the score does not use.

Usage: screen_undated_features.py ROWS MT WLT WL MANIFEST
ROWS: `perimeter screen --csv --name-only --min 80` on WL and MANIFEST;
MT, WLT: the manifest and watchlist truth. Tuning sets only (docs/link.md).
"""
import csv, collections, sys

rows,mt,wlt,wl,m=sys.argv[1:6]
per={}
for r in csv.DictReader(open(mt)): per[r['flight_id']+':'+r['passenger_seq']]=r['person_id']
ep={r['watchlist_id']:r['person_id'] for r in csv.DictReader(open(wlt)) if r['person_id']}
W={r['watchlist_id']:r for r in csv.DictReader(open(wl))}
M={r['flight_id']+':'+r['passenger_seq']:r for r in csv.DictReader(open(m))}
C=collections.defaultdict(collections.Counter)
for r in csv.DictReader(open(rows)):
    if 'dob missing' not in r['reasons']: continue
    s=float(r['score'])
    if not (85<=s<95): continue
    t=ep.get(r['watchlist_id'])==per.get(r['record'])
    e=W[r['watchlist_id']]; tr=M[r['record']]
    age=2026-int(tr['date_of_birth'][:4]) if tr['date_of_birth'] else -1  # at the 2026 flights
    feats={'age':'unknown' if age<0 else 'child' if age<18 else ('old' if age>70 else 'adult'),
      'tmid':bool(tr['middle_names']),'emid':len(e['given_names'].split())>1,
      'reason':e['reason'],'doctype':tr['document_type'],'res=cit':tr['residence']==tr['citizenship'],
      'esex':bool(e['sex']),'ealias':bool(e['aliases'])}
    for k,v in feats.items(): C[(k,v)][t]+=1
for k in sorted(C,key=str): print(k, 'true',C[k][True],'false',C[k][False])
