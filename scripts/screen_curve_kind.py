#!/usr/bin/env python3
"""Hits / false hits per 1,000 clean travellers apart for entries listed with
and without a date of birth, as --min moves, pooled over set folders (each
holding rows.csv from `screen --csv --name-only --min 80`, mt.csv, wlt.csv,
wl.csv). Usage: screen_curve_kind.py DIR... (docs/link.md)."""
import sys,csv
sys.path.insert(0,'/work/wt-screen4/scripts')
import screen_fit as sf
sets=sys.argv[1:]
data=[]
for d in sets:
    c,s,cl=sf.load(d+'/rows.csv',d+'/mt.csv',d+'/wlt.csv')
    dob={r['watchlist_id']:r['date_of_birth'] for r in csv.DictReader(open(d+'/wl.csv'))}
    ep={r['watchlist_id']:r['person_id'] for r in csv.DictReader(open(d+'/wlt.csv')) if r['person_id']}
    data.append((c,s,cl,dob,ep))
for t in (90,92,93,94,95,96,97,98,100):
    tot=[[0,0.0,0] for _ in range(2)]
    ncl=0
    for c,s,cl,dob,ep in data:
        out=sf.split(dob,c,s,cl,ep,(t,t)); ncl+=len(cl)
        for g in range(2):
            n,h,fa=out[g]; tot[g][0]+=n; tot[g][1]+=h*n; tot[g][2]+=fa*len(cl)/1000
    print(t, *[f'{tot[g][0]} {tot[g][1]/tot[g][0]:.3f} {1000*tot[g][2]/ncl:.2f}' for g in range(2)])
