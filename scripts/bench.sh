#!/usr/bin/env bash
# End-to-end scale benchmark: generate large IP-in-IP captures with the ground-truth generator (six
# files, deterministic), then time `calipath report` over them and report frames/s and peak memory
# per frame. Usage: scripts/bench.sh [PACKETS]  (default 1,700,000 packets ≈ 10 M frames, ~1.5 GB).
# Environment: BENCH_DIR (work directory; default a temp dir, removed at the end), PROCS (GOMAXPROCS
# values to try; default "1 2"), RUNS (runs per value; default 3), MODE (ipip|vxlan|bgp).
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${1:-1700000}
mode=${MODE:-ipip}
dir=${BENCH_DIR:-$(mktemp -d)}
keep=${BENCH_DIR:+1}
trap '[ -n "$keep" ] || rm -rf "$dir"' EXIT
mkdir -p "$dir/caps"
go build -o "$dir/calipath" ./cmd/calipath
go build -o "$dir/gencap" ./internal/gen/gencap
if [ ! -s "$dir/caps/.done-$packets-$mode" ]; then
  rm -f "$dir"/caps/*
  "$dir/gencap" --out "$dir/caps" --packets "$packets" --flows 1000 --mode "$mode" --rate 200000 \
    --loss 0.001 --dup 0.01 --offset node-2=3s --truth none
  echo "$packets" > "$dir/caps/.done-$packets-$mode"
fi
# Count frames with calipath itself (points prints records per file).
frames=$("$dir/calipath" points "$dir"/caps/*.pcap | grep -o '): [0-9]* records' | awk '{s+=$2} END {print s}')
bytes=$(du -cb "$dir"/caps/*.pcap | tail -1 | cut -f1)
echo "input: $frames frames, $((bytes / 1048576)) MiB in $(ls "$dir"/caps/*.pcap | wc -l) files"
# Page cache warm-up so the runs measure calipath, not the disk.
cat "$dir"/caps/*.pcap > /dev/null
# This VM's timings vary by ±15% between runs of one binary: each setting runs RUNS times (default 3)
# and the fastest and the median are printed.
for p in ${PROCS:-1 2}; do
  res=""
  for _ in $(seq 1 "${RUNS:-3}"); do
    out=$( { GOMAXPROCS=$p /usr/bin/time -f '%e %M' "$dir/calipath" report --format json "$dir"/caps/*.pcap > /dev/null; } 2>&1 | tail -1)
    res="$res$out"$'\n'
  done
  printf '%s' "$res" | sort -n | awk -v f="$frames" -v p="$p" '
    { s[NR] = $1; k[NR] = $2 }
    END {
      med = s[int((NR + 1) / 2)]; kmax = 0
      for (i = 1; i <= NR; i++) if (k[i] > kmax) kmax = k[i]
      printf "GOMAXPROCS=%s: best %.2f s = %.2f M frames/s, median %.2f s = %.2f M frames/s (%d runs); peak RSS %.0f MiB = %.1f bytes/frame\n",
        p, s[1], f/s[1]/1e6, med, f/med/1e6, NR, kmax/1024, kmax*1024/f }'
done
