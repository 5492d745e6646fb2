#!/usr/bin/env bash
# End-to-end scale benchmark: generate large captures with the ground-truth generator (deterministic),
# then time `calipath report --format json` over them (output to a file) and report frames/s and peak
# memory per frame. Usage: scripts/bench.sh [PACKETS]  (PACKETS: the base set's packets; default
# 1,700,000 ≈ 10 M frames, ~1.5 GB).
# The sets (SETS, default all three; each generated once into BENCH_DIR):
#   base        1,000 flows, IP-in-IP, six files: the set of the first figures (its command unchanged)
#   many-flows  200,000 flows over 1.7 M packets (≈ 10.3 M frames, 36 files): DNS-like UDP
#               request/response pairs and 8-packet TCP connections from 30 client pods to 2 servers
#   arp-heavy   1,000 flows over 1 M packets plus 400,000 proxy ARP exchanges a second (≈ 10 M frames,
#               40% of them ARP, 12 files)
# The many-flow set also runs with --journeys (JOURNEYS=0 to skip; JOURNEYS_PROCS, default 2;
# JOURNEYS_RUNS, default 1: one such run takes minutes and several GB today).
# Environment: BENCH_DIR (work directory; default a temp dir, removed at the end), PROCS (GOMAXPROCS
# values to try; default "1 2"; empty: only the --journeys runs), RUNS (runs per value; default 3), MODE (ipip|vxlan|bgp), SETS.
# The last lines printed are a Markdown table of the results.
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${1:-1700000}
mode=${MODE:-ipip}
sets=${SETS:-base many-flows arp-heavy}
dir=${BENCH_DIR:-$(mktemp -d)}
keep=${BENCH_DIR:+1}
trap '[ -n "$keep" ] || rm -rf "$dir"' EXIT
mkdir -p "$dir"
go build -o "$dir/calipath" ./cmd/calipath
go build -o "$dir/gencap" ./internal/gen/gencap

# gen SET CAPS: the generation command of a set (the same flags for the same set, every time).
gen() {
  local common=(--mode "$mode" --rate 200000 --loss 0.001 --dup 0.01 --offset node-2=3s --truth none)
  case $1 in
  base) "$dir/gencap" --out "$2" --packets "$packets" --flows 1000 "${common[@]}" ;;
  many-flows) "$dir/gencap" --out "$2" --mix many-flows --packets 1700000 --flows 200000 --nodes 2 --pods 16 "${common[@]}" ;;
  arp-heavy) "$dir/gencap" --out "$2" --mix arp-heavy --packets 1000000 --flows 1000 --nodes 2 --pods 4 \
    --arp-rate 400000 "${common[@]}" ;;
  *) echo "bench.sh: unknown set $1 (want base, many-flows or arp-heavy)" >&2; exit 2 ;;
  esac
}

rows=""

# timed LABEL CAPS FRAMES MIB PROCS RUNS EXTRA...: RUNS runs of report per GOMAXPROCS value, output to a
# file; prints a line per value and adds a row to the table.
timed() {
  local label=$1 caps=$2 frames=$3 mib=$4 procs=$5 runs=$6
  shift 6
  for p in $procs; do
    local res=""
    for _ in $(seq 1 "$runs"); do
      out=$( { GOMAXPROCS=$p /usr/bin/time -f '%e %M' "$dir/calipath" report --format json "$@" "$caps"/*.pcap \
        > "$dir/out.json"; } 2>&1 | tail -1)
      res="$res$out"$'\n'
    done
    # The flows calipath found, from the summary of the last run's output (at its end, or before the
    # journeys with --journeys); "?" when there is none (a failed run).
    flows=$( { tail -c 4096 "$dir/out.json" | grep -o '"flows": [0-9]*' || grep -o '"flows": [0-9]*' "$dir/out.json" \
      || echo '"flows": ?'; } | tail -1 | grep -o '[0-9?]*$')
    rm -f "$dir/out.json"
    out=$(printf '%s' "$res" | sort -n | awk -v f="$frames" -v p="$p" -v set="$label" -v fl="${flows:-?}" -v mib="$mib" '
      { s[NR] = $1; k[NR] = $2 }
      END {
        med = s[int((NR + 1) / 2)]; kmax = 0
        for (i = 1; i <= NR; i++) if (k[i] > kmax) kmax = k[i]
        printf "%s GOMAXPROCS=%s: best %.2f s = %.2f M frames/s, median %.2f s = %.2f M frames/s (%d runs); peak RSS %.0f MiB = %.1f bytes/frame\n",
          set, p, s[1], f/s[1]/1e6, med, f/med/1e6, NR, kmax/1024, kmax*1024/f
        printf "| %s | %d | %s | %d MiB | %s | %.2f M | %.2f M | %d | %.0f MiB | %.1f |\n",
          set, f, fl, mib, p, f/s[1]/1e6, f/med/1e6, NR, kmax/1024, kmax*1024/f }')
    echo "${out%%$'\n'*}"
    rows+="${out#*$'\n'}"$'\n'
  done
}

for set in $sets; do
  caps="$dir/$set"
  [ "$set" = base ] && caps="$dir/caps" # where the base set always was
  tag="$set-$packets-$mode"
  [ "$set" = base ] || tag="$set-$mode"
  if [ ! -s "$caps/.done-$tag" ]; then
    mkdir -p "$caps"
    rm -f "$caps"/*
    gen "$set" "$caps"
    echo "$packets" > "$caps/.done-$tag"
  fi
  # Count frames with calipath itself (points prints records per file).
  frames=$("$dir/calipath" points "$caps"/*.pcap | grep -o '): [0-9]* records' | awk '{s+=$2} END {print s}')
  bytes=$(du -cb "$caps"/*.pcap | tail -1 | cut -f1)
  # Page cache warm-up so the runs measure calipath, not the disk.
  cat "$caps"/*.pcap > /dev/null
  echo "$set: $frames frames, $((bytes / 1048576)) MiB in $(ls "$caps"/*.pcap | wc -l) files"
  # This VM's timings vary by ±15% between runs of one binary: each setting runs RUNS times (default 3)
  # and the fastest and the median are printed.
  timed "$set" "$caps" "$frames" "$((bytes / 1048576))" "${PROCS-1 2}" "${RUNS:-3}"
  if [ "$set" = many-flows ] && [ "${JOURNEYS:-1}" != 0 ]; then
    timed "many-flows --journeys" "$caps" "$frames" "$((bytes / 1048576))" "${JOURNEYS_PROCS:-2}" "${JOURNEYS_RUNS:-1}" --journeys
  fi
done
echo
echo "| set | frames | flows found | input | GOMAXPROCS | best frames/s | median frames/s | runs | peak RSS | bytes/frame |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s' "$rows"
