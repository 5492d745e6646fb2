#!/usr/bin/env bash
# Bounded-memory benchmark: generate about 100 M frames with the ground-truth generator (the base set of
# bench.sh, ten times longer: 1,000 flows, IP-in-IP, six files, ~17 GB), then run `calipath report
# --format json --memory LIMIT` over them once (output to a file) and print frames/s and peak RSS.
# Usage: scripts/membench.sh [PACKETS]  (default 17,000,000 packets ≈ 100 M frames).
# Environment: BENCH_DIR (work directory; default a temp dir, removed at the end), MEMORY (default 2G),
# PROCS (GOMAXPROCS; default 2), MODE (ipip|vxlan|bgp), INMEMORY=1 also runs the in-memory path
# (--memory 1T) and compares the two outputs byte for byte (it needs about 80 bytes a frame of memory).
# Disk: the captures (~175 bytes a frame) plus, in $TMPDIR, the spilled frames (48 bytes a frame) and the
# journeys' arrays (about 20 bytes a frame).
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${1:-17000000}
mode=${MODE:-ipip}
memory=${MEMORY:-2G}
procs=${PROCS:-2}
dir=${BENCH_DIR:-$(mktemp -d)}
keep=${BENCH_DIR:+1}
trap '[ -n "$keep" ] || rm -rf "$dir"' EXIT
mkdir -p "$dir"
go build -o "$dir/calipath" ./cmd/calipath
go build -o "$dir/gencap" ./internal/gen/gencap
caps="$dir/caps"
tag="membench-$packets-$mode"
if [ ! -s "$caps/.done-$tag" ]; then
  mkdir -p "$caps"
  rm -f "$caps"/*
  "$dir/gencap" --out "$caps" --packets "$packets" --flows 1000 --mode "$mode" --rate 200000 --loss 0.001 --dup 0.01 \
    --offset node-2=3s --truth none
  echo "$packets" > "$caps/.done-$tag"
fi
frames=$("$dir/calipath" points "$caps"/*.pcap | grep -o '): [0-9]* records' | awk '{s+=$2} END {print s}')
bytes=$(du -cb "$caps"/*.pcap | tail -1 | cut -f1)
echo "$frames frames, $((bytes / 1048576)) MiB in $(ls "$caps"/*.pcap | wc -l) files"

# run LABEL OUT FLAGS...: one run of report, printing its time, frames/s and peak RSS.
run() {
  local label=$1 out=$2
  shift 2
  local res
  res=$( { GOMAXPROCS=$procs /usr/bin/time -f '%e %M' "$dir/calipath" report -q --format json "$@" -o "$out" \
    "$caps"/*.pcap; } 2>&1 | tee /dev/stderr | tail -1)
  echo "$res" | awk -v f="$frames" -v l="$label" -v p="$procs" '{ printf "%s GOMAXPROCS=%s: %.1f s = %.2f M frames/s; peak RSS %.0f MiB = %.1f bytes/frame\n", l, p, $1, f/$1/1e6, $2/1024, $2*1024/f }'
}
run "--memory $memory" "$dir/bounded.json" --memory "$memory"
if [ "${INMEMORY:-0}" = 1 ]; then
  run "in memory" "$dir/inmemory.json" --memory 1T
  cmp "$dir/bounded.json" "$dir/inmemory.json" && echo "outputs identical"
fi
