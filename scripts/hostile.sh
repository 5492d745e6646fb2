#!/usr/bin/env bash
# Hostile inputs: generates each case of "memory bounded by what is real" and "timestamps that lie",
# runs calipath on it and prints the exit code, the peak memory (/usr/bin/time %M), the time taken and
# the first lines calipath wrote to stderr.
#
# Usage: scripts/hostile.sh [CALIPATH] [CASE...]
#   CALIPATH  the binary to try (default: built from this tree); "" builds it
#   CASE      sparse sparse-tail gzip-zeros fifo-zeros idb-flood zero-tail lying-times identical
#             (default: all)
# Environment:
#   HOSTILE_DIR  where the inputs are generated (default a temporary directory, removed at the end);
#                set it to keep them between runs (the 10 GiB gzip takes a minute to make)
#   AS_LIMIT     address-space limit for each calipath run, in bytes (default 4000000000), so that a
#                binary without the limits dies alone instead of exhausting a shared machine
#   SUBCMD       the subcommand to run (default "report --format json -q"; "points" scans only)
#
# Nothing large is committed: the inputs are made here, sparse where possible (truncate).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
shift || true
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(sparse sparse-tail gzip-zeros fifo-zeros idb-flood zero-tail lying-times identical)
dir=${HOSTILE_DIR:-$(mktemp -d)}
keep=${HOSTILE_DIR:+1}
writer=
cleanup() {
  if [ -n "$writer" ]; then kill "$writer" 2>/dev/null || true; fi
  [ -n "$keep" ] || rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir"
if [ -z "$bin" ]; then
  go build -o "$dir/calipath" ./cmd/calipath
  bin=$dir/calipath
fi
limit=${AS_LIMIT:-4000000000}
read -r -a subcmd <<< "${SUBCMD:-report --format json -q}"

# A little-endian microsecond pcap file header: version 2.4, snaplen 262144, Ethernet.
pcaphdr() { printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x01\x00\x00\x00'; }

# run NAME FILE...: one calipath run under the address-space limit.
run() {
  local name=$1
  shift
  local err=$dir/$name.stderr rc=0
  /usr/bin/time -o "$dir/$name.time" -f '%M %e' prlimit --as="$limit" "$bin" "${subcmd[@]}" "$@" \
    > "$dir/$name.stdout" 2> "$err" || rc=$?
  read -r kb secs < <(tail -1 "$dir/$name.time")
  printf '%-12s exit %-3s peak %7.1f MiB  %6.2f s\n' "$name" "$rc" "$(echo "$kb/1024" | bc -l)" "$secs"
  { grep -v '^Command exited' "$err" || true; } | head -4 | cut -c1-220 | sed 's/^/    /'
}

for c in "${cases[@]}"; do
  case $c in
  sparse)
    # A valid pcap header, then a 10 GB hole: every byte after the header reads as zero.
    f=$dir/node-a-eth0.pcap
    [ -s "$f" ] || { pcaphdr > "$f"; truncate -s 10G "$f"; }
    run sparse "$f"
    ;;
  sparse-tail)
    # Generated two-node captures of about 90,000 frames each, node-1's eth0 followed by a 10 GB hole:
    # real records first, then a size that holds none.
    d=$dir/sparse-tail
    if [ ! -s "$d/.done" ]; then
      rm -rf "$d"
      go run ./internal/gen/gencap --out "$d" --packets 90000 --flows 100 --truth none > /dev/null
      truncate -s +10G "$d/node-1-eth0.pcap"
      touch "$d/.done"
    fi
    run sparse-tail "$d"/*.pcap
    ;;
  gzip-zeros)
    # A valid pcap header and 10 GiB of zeros (671 M empty records), gzip'd to about 10 MB.
    f=$dir/node-a-zeros.pcap.gz
    [ -s "$f" ] || { pcaphdr; head -c 10G /dev/zero; } | gzip -9 > "$f"
    ls -l "$f" | awk '{printf "gzip-zeros: %s bytes compressed\n", $5}'
    run gzip-zeros "$f"
    ;;
  fifo-zeros)
    # A FIFO feeding a valid header, then zeros without end.
    f=$dir/node-a-fifo.pcap
    rm -f "$f"
    mkfifo "$f"
    { pcaphdr; cat /dev/zero; } > "$f" 2>/dev/null &
    writer=$!
    run fifo-zeros "$f"
    kill "$writer" 2>/dev/null || true
    wait "$writer" 2>/dev/null || true
    writer=
    rm -f "$f"
    ;;
  idb-flood)
    # A pcapng section of 4,194,304 bare 20-byte Interface Description Blocks and one packet.
    f=$dir/node-a-idbs.pcapng.gz
    if [ ! -s "$f" ]; then
      printf '\x01\x00\x00\x00\x14\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x14\x00\x00\x00' > "$dir/idb"
      for _ in $(seq 22); do cat "$dir/idb" "$dir/idb" > "$dir/idb2"; mv "$dir/idb2" "$dir/idb"; done
      {
        # Section header: little-endian, version 1.0, unknown section length.
        printf '\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x1c\x00\x00\x00'
        cat "$dir/idb"
        # One Enhanced Packet Block on interface 0: a 42-byte ARP request, padded to 44.
        printf '\x06\x00\x00\x00\x4c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x2a\x00\x00\x00\x2a\x00\x00\x00'
        printf '\xff\xff\xff\xff\xff\xff\x02\x42\x0a\x00\x00\x05\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01'
        printf '\x02\x42\x0a\x00\x00\x05\x0a\x00\x00\x05\x00\x00\x00\x00\x00\x00\x0a\x00\x00\x01\x00\x00'
        printf '\x4c\x00\x00\x00'
      } | gzip -9 > "$f"
      rm -f "$dir/idb"
    fi
    ls -l "$f" | awk '{printf "idb-flood: %s bytes compressed\n", $5}'
    run idb-flood "$f"
    ;;
  zero-tail)
    # The demo's node-a-eth0 capture followed by 1 MiB of zeros (what a crash or a preallocated file
    # leaves), with the rest of the demo's captures.
    d=$dir/zero-tail
    mkdir -p "$d"
    cp cmd/calipath/demo/mtu-blackhole/*.pcap "$d/"
    head -c 1M /dev/zero >> "$d/node-a-eth0.pcap"
    run zero-tail "$d"/*.pcap
    ;;
  lying-times)
    # The demo's node-a-eth0 capture with lying timestamps: frame 5's nanosecond field 1,500,000,000,
    # frame 10 in 1970, frame 15 in 2106, and from frame 20 on the clock one hour back.
    d=$dir/lying-times
    mkdir -p "$d"
    cp cmd/calipath/demo/mtu-blackhole/*.pcap "$d/"
    perl -e '
      local $/; my $b = <STDIN>; my $o = 24; my $n = 0;
      while ($o + 16 <= length $b) {
        $n++;
        my ($s, $f, $cl) = unpack("V V V", substr($b, $o, 12));
        if ($n == 5)  { $f = 1500000000 }
        if ($n == 10) { $s = 0 }
        if ($n == 15) { $s = 0xfffffff0 }
        if ($n >= 20) { $s -= 3600 }
        substr($b, $o, 8) = pack("V V", $s, $f);
        $o += 16 + $cl;
      }
      print $b;' < cmd/calipath/demo/mtu-blackhole/node-a-eth0.pcap > "$d/node-a-eth0.pcap"
    run lying-times "$d"/*.pcap
    if [ "${subcmd[0]}" = report ] && command -v jq > /dev/null; then
      jq -r '"    points: " + ([.points[] | select(.node == "node-a") | "\(.iface) \((.last_ns - .first_ns) / 1e9)s"] | join(", ")),
             "    capture-gap anomalies: \([.anomalies[] | select(.kind == "capture-gap")] | length)"' "$dir/lying-times.stdout" || true
    fi
    ;;
  identical)
    # Byte-identical packets at a high rate: two-node IP-in-IP captures (three points per node) of
    # 700,000 packets at 200,000 packets/s, of which one flow (most of them) repeats one UDP datagram
    # (IP id 0, the same ports and payload), about 4.2 M frames; the other two flows are ICMP.
    d=$dir/identical
    if [ ! -s "$d/.done" ]; then
      rm -rf "$d"
      go run ./internal/gen/gencap --out "$d" --packets 700000 --flows 3 --identical 1 --rate 200000 \
        --offset node-2=3ms --truth none > /dev/null
      touch "$d/.done"
    fi
    run identical "$d"/*.pcap
    if [ "${subcmd[0]}" = report ] && command -v jq > /dev/null; then
      jq -r '"    flows: " + ([.flows[] | "\(.id) \(.proto) sent \(.packets) delivered \(.delivered) lost \(.lost)"] | join(", ")),
             "    clocks: " + ([.clocks[] | "\(.node) \(.offset_ns)±\(.bound_ns) ns"] | join(", ")),
             "    anomalies: " + ([.anomalies[] | .kind] | join(", "))' "$dir/identical.stdout" || true
    fi
    ;;
  *)
    echo "unknown case $c" >&2
    exit 2
    ;;
  esac
done
