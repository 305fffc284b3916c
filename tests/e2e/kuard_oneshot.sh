#!/usr/bin/env bash
# The one-shot Job's container command, exactly: /kuard --keygen-enable --keygen-exit-on-complete
# --keygen-num-to-gen=10 with real RSA-4096 keys. It must log 10 "Item done" lines whose
# fingerprints are well-formed and distinct, then exit 0.
set -euo pipefail
KUARD=${KUARD:-$(dirname "$0")/../../build/kuard}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$KUARD" --address 127.0.0.1:0 --keygen-enable --keygen-exit-on-complete --keygen-num-to-gen=10 \
    >"$log" 2>&1 || { echo "FAIL: exit $?"; cat "$log"; exit 1; }
lines=$(grep -E '^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:]{8} \(ID 0 ([1-9]|10)/10\) Item done: SHA256:[A-Za-z0-9+/]{43}$' "$log")
count=$(echo "$lines" | wc -l)
distinct=$(echo "$lines" | sed 's/.*SHA256://' | sort -u | wc -l)
[ "$count" = 10 ] && [ "$distinct" = 10 ] || { echo "FAIL: $count lines, $distinct distinct"; cat "$log"; exit 1; }
grep -q '(ID 0) Workload starting' "$log" && grep -q '(ID 0) Workload exiting' "$log" ||
    { echo "FAIL: missing start/exit lines"; cat "$log"; exit 1; }
echo "one-shot OK: 10 RSA-4096 keys, exit 0"
