#!/usr/bin/env bash
# Installs the Debian 12 packages jobplane builds, tests and benchmarks with.
# Idempotent: installs only what is missing, so `make`, the README and .ci/run all call it.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config git clang clang-format libclang-rt-14-dev
    libuv1-dev libmicrohttpd-dev libgnutls28-dev libcurl4-openssl-dev libssl-dev libjansson-dev
    libsqlite3-dev libyaml-dev libcmocka-dev libmnl-dev zlib1g-dev libarchive-dev)
test_pkgs=(curl python3 python3-kubernetes openssh-client procps)
bench_pkgs=(wrk nginx-light)

want=("${build_pkgs[@]}" "${test_pkgs[@]}")
case "${1:-}" in
--bench) want+=("${bench_pkgs[@]}") ;;
"") ;;
*) echo "usage: $0 [--bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: run as root to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq || true
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
