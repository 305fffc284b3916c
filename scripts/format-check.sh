#!/usr/bin/env bash
# Fails if any tracked C file differs from what clang-format makes of it (crun's check).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
bad=0
while IFS= read -r f; do
    if ! diff -u "$f" <(clang-format "$f") >/dev/null; then
        echo "format: $f needs clang-format (run: make format)" >&2
        bad=1
    fi
done < <(git ls-files '*.c' '*.h')
exit $bad
