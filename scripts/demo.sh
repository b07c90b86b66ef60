#!/usr/bin/env bash
# make demo: two partner nodes (CAN and USA), one database each, exchanging
# their entry records so that each side's entries become the other's exits.
# (Later issues run the nodes as HTTP servers; for now the feed is a file.)
set -euo pipefail
bin=${1:-build/perimeter}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
work=${PERIMETER_DEMO_DIR:-$(mktemp -d /tmp/perimeter-demo.XXXXXX)}
mkdir -p "$work"
cd "$work"
rm -f can.db* usa.db*
say() { printf '\n== %s\n' "$*"; }

"$bin" --version
say "1. Generate a week of land-border crossings for CAN and USA (synthetic people)"
if "$bin" synth crossings --help >/dev/null 2>&1; then
  "$bin" synth crossings --people 60000 --days 7 --seed 2026 --countries CAN,USA \
    --split gen --truth gen/truth.csv --noise 0.05
else
  # without the generator, the importer's sample rows stand in
  mkdir -p gen
  "$bin" bench ingest --rows 8000 --seed 1 --country CAN --write-csv gen/CAN.csv
  "$bin" bench ingest --rows 8000 --seed 2 --country USA --write-csv gen/USA.csv
fi
wc -l gen/CAN.csv gen/USA.csv

say "2. Each node imports the entries its own ports recorded"
"$bin" crossings import --db can.db gen/CAN.csv
"$bin" crossings import --db usa.db gen/USA.csv
echo "(importing the same file again stores nothing new:)"
"$bin" crossings import --db can.db gen/CAN.csv

say "3. Exchange the feeds both ways: their entry is our exit"
"$bin" crossings export --db can.db --since 0 -o can-feed.jsonl
"$bin" crossings export --db usa.db --since 0 -o usa-feed.jsonl
"$bin" crossings import --db usa.db --from-partner CAN can-feed.jsonl
"$bin" crossings import --db can.db --from-partner USA usa-feed.jsonl
cursor=$("$bin" crossings stats --db usa.db --json | sed 's/.*"CAN":\([0-9]*\).*/\1/')
echo "(USA stored how far it read CAN's feed: cursor $cursor; resuming there finds nothing new yet)"
"$bin" crossings export --db can.db --since "$cursor" | wc -l

say "4. What each side knows"
for side in can usa; do
  echo "--- ${side^^}"
  "$bin" crossings stats --db $side.db
done

say "5. A few travel histories (by document, on both sides)"
# the documents that crossed most often, from CAN's own entries
awk -F, 'FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
          { print $col["document_number"] "," $col["document_issuer"] }' gen/CAN.csv gen/USA.csv |
  sort | uniq -c | sort -k1,1nr -k2 >doc-counts.txt
docs=$(awk 'NR <= 3 { print $2 }' doc-counts.txt)
for d in $docs; do
  num=${d%,*}; iss=${d#*,}
  for side in can usa; do
    echo "--- ${side^^}: document $num issued by $iss"
    "$bin" history --db $side.db --document "$num" --issuer "$iss"
  done
done

say "6. History by exact name and date of birth (USA side, JSON)"
row=$(sed -n 2p can-feed.jsonl)
sur=$(echo "$row" | sed 's/.*"surname":"\([^"]*\)".*/\1/')
dob=$(echo "$row" | sed 's/.*"date_of_birth":"\([^"]*\)".*/\1/')
echo "surname '$sur', born $dob:"
"$bin" history --db usa.db --surname "$sur" --dob "$dob" --json >history.json
sed -n 1,30p history.json

say "7. Each node links its records into travellers (no shared person id)"
for side in can usa; do
  echo "--- ${side^^}"
  "$bin" link --db $side.db --em 0
  echo "reconciliation of exits with a prior entry (an exit by a resident who entered"
  echo "before the week has nothing to reconcile with; those go to the work queue):"
  "$bin" report reconcile --db $side.db | sed -n 1,5p
  echo "uncertain pairs waiting for clerical review: $("$bin" review --db $side.db | grep -c '^#' || true)"
done

say "8. How good is that linkage? Measured against the generator's ground truth (CAN side)"
{ cat gen/CAN.csv; tail -n +2 gen/USA.csv; } >all.csv
"$bin" eval linkage --crossings all.csv --truth gen/truth.csv --country CAN --em 0 |
  grep -E '^(records|persons|precision|recall|F1|reconciliation|review queue)'

say "9. Synthetic fingerprints (no one's prints): 10 fingers x 8 impressions, then the FVC protocol"
if "$bin" synth prints --help >/dev/null 2>&1; then
  rm -rf prints
  "$bin" synth prints --fingers 10 --impressions 8 --seed 2026 --out prints
  "$bin" eval fvc prints | sed -n '/^DB1_B/,+2p'
  echo "--- same finger, two impressions:"
  "$bin" compare prints/DB1_B/101_1.png prints/DB1_B/101_2.png | sed -n 1p
  echo "--- two different fingers:"
  "$bin" compare prints/DB1_B/101_1.png prints/DB1_B/102_1.png | sed -n 1p
  echo "(ground truth of each finger: class, singular points, transformation, minutiae in prints/truth.jsonl)"
fi

say "Done. Databases and files are in $work"
