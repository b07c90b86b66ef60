#!/usr/bin/env python3
"""Hits and false hits per 1,000 with 95% Wilson intervals, from the JSON of
`perimeter screen ... --truth MT --watchlist-truth WLT --json` (the tool's
own counts), split by kind of entry (listed with / without a date of birth),
one line per file and pooled. usage: screen_truth_ci.py NAME=FILE.json ...
"""
import json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from screen_fit_cv import wilson  # 95% Wilson interval (one definition)

def counts(j):
    ns, nc = j['seeded_people_screened'], j['clean_people']
    nu = j['seeded_people_listed_without_dob']
    nd = ns - nu
    return dict(ns=ns, hit=j['seeded_people_hit'], nc=nc, fa=j['clean_people_hit'],
                nd=nd, hd=round(j['hit_rate_people_listed_with_dob'] * nd),
                nu=nu, hu=round(j['hit_rate_people_listed_without_dob'] * nu),
                fd=round(j['false_hits_per_1000_clean_travellers_via_dated_entries'] * nc / 1000),
                fu=round(j['false_hits_per_1000_clean_travellers_via_undated_entries'] * nc / 1000))

def line(name, c):
    lo, hi = wilson(c['hit'], c['ns'])
    flo, fhi = wilson(c['fa'], c['nc'])
    print(f"| {name} | {c['hit']/c['ns']:.4f} ({c['hit']}/{c['ns']}) [{lo:.4f}, {hi:.4f}] "
          f"| {1000*c['fa']/c['nc']:.2f} ({c['fa']}/{c['nc']}) [{1000*flo:.2f}, {1000*fhi:.2f}] "
          f"| {c['hd']/max(1,c['nd']):.4f} ({c['hd']}/{c['nd']}) / {1000*c['fd']/c['nc']:.2f} "
          f"| {c['hu']/max(1,c['nu']):.4f} ({c['hu']}/{c['nu']}) / {1000*c['fu']/c['nc']:.2f} |")

print("| set | hits (95% CI) | false per 1,000 (95% CI) | listed with a date: hits / false per 1,000 "
      "| listed without: hits / false per 1,000 |")
print("|---|---|---|---|---|")
tot = None
for a in sys.argv[1:]:
    name, path = a.split('=', 1)
    with open(path) as f:
        c = counts(json.load(f))
    line(name, c)
    tot = c if tot is None else {k: tot[k] + c[k] for k in c}
if tot and len(sys.argv) > 2:
    line('pooled', tot)
