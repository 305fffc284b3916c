#!/usr/bin/env bash
# Regenerates src/api/schema_gen.c and src/api/schema_types_gen.h from the models of
# @kubernetes/client-node (installed once into a cache outside the repo), patch-strategies.tsv and
# proto-fields.tsv.
#
#   tools/gen-schema/run.sh                  write the outputs into src/api/
#   tools/gen-schema/run.sh --check          fail if the committed outputs are not current (CI)
#   tools/gen-schema/run.sh --dump-models F  write the models as JSON to F (for crosscheck.py)
set -euo pipefail

VERSION=2.0.1
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/jobplane/client-node-$VERSION"
pkg="$cache/node_modules/@kubernetes/client-node"
outputs=(src/api/schema_gen.c src/api/schema_types_gen.h)

die() {
    echo "gen-schema: $*" >&2
    exit 1
}

mode="write"
dump=
case "${1:-}" in
"") ;;
--check) mode=check ;;
--dump-models)
    mode=dump
    dump="${2:?--dump-models needs a file}"
    ;;
*) die "usage: $0 [--check | --dump-models FILE]" ;;
esac

installed_version() {
    node -e 'console.log(require(process.argv[1]).version)' "$pkg/package.json" 2>/dev/null || true
}

# Install into a fresh directory and rename it into place, so an interrupted install is never
# mistaken for a complete one.
if [ "$(installed_version)" != "$VERSION" ]; then
    echo "gen-schema: installing @kubernetes/client-node@$VERSION into $cache" >&2
    rm -rf "$cache" "$cache.tmp"
    mkdir -p "$cache.tmp"
    npm install --no-audit --no-fund --loglevel=error --prefix "$cache.tmp" \
        "@kubernetes/client-node@$VERSION" >&2
    mv "$cache.tmp" "$cache"
    [ "$(installed_version)" = "$VERSION" ] || die "npm did not install client-node $VERSION"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

node "$here/dump-models.mjs" "$pkg/dist/gen/models" >"$tmp/models.json"
if [ "$mode" = dump ]; then
    cp "$tmp/models.json" "$dump"
    exit 0
fi

/usr/bin/python3 "$here/gen.py" --models "$tmp/models.json" --patch "$here/patch-strategies.tsv" \
    --proto "$here/proto-fields.tsv" \
    --out-c "$tmp/schema_gen.raw.c" --out-h "$tmp/schema_types_gen.raw.h"
# Format as the repo's format check would, so the committed files pass it unchanged.
cd "$root"
clang-format --assume-filename=src/api/schema_gen.c <"$tmp/schema_gen.raw.c" >"$tmp/schema_gen.c"
clang-format --assume-filename=src/api/schema_types_gen.h <"$tmp/schema_types_gen.raw.h" \
    >"$tmp/schema_types_gen.h"

if [ "$mode" = check ]; then
    stale=0
    for f in "${outputs[@]}"; do
        if ! diff -u "$f" "$tmp/$(basename "$f")" >&2; then
            stale=1
        fi
    done
    [ "$stale" = 0 ] ||
        die "generated schema is out of date: run tools/gen-schema/run.sh, commit ${outputs[*]}"
    echo "gen-schema: ${outputs[*]} are current" >&2
    exit 0
fi

for f in "${outputs[@]}"; do
    cp "$tmp/$(basename "$f")" "$f"
done
echo "gen-schema: wrote ${outputs[*]}" >&2
