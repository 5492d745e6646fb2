#!/usr/bin/env bash
# Compare calipath's outputs between two builds: the working tree and a git ref (default main), over
# every lab scenario (all its captures; its -i any files alone, with and without its links files) and
# generated captures in every mode, in every report format (JSON with --journeys too), plus `points`
# and `packets --format json`. Prints each difference and exits 1 if there is one: for a refactoring
# that must keep the behaviour byte-identical.
#   scripts/compare.sh [REF]        (environment: KEEP=DIR keeps both outputs there)
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:-main}
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"; git worktree remove --force "$work/base" >/dev/null 2>&1 || true' EXIT
git worktree add --detach -q "$work/base" "$ref"
(cd "$work/base" && go build -o "$work/old" ./cmd/calipath)
go build -o "$work/new" ./cmd/calipath
go build -o "$work/gencap" ./internal/gen/gencap
for mode in ipip vxlan bgp; do
  mkdir -p "$work/gen-$mode"
  "$work/gencap" --out "$work/gen-$mode" --packets 20000 --flows 50 --mode "$mode" --loss 0.01 --dup 0.01 \
    --offset node-2=3ms --truth none >/dev/null
done
# cases: name|args (word-split; globs expanded)
shopt -s nullglob
cases=()
for d in testdata/lab/scenarios/*/; do
  s=$(basename "$d")
  all=("$d"*.pcap "$d"*.pcapng)
  [ ${#all[@]} -gt 0 ] && cases+=("$s-all|${all[*]}")
  anyf=("$d"*-any.pcap)
  if [ ${#anyf[@]} -gt 0 ]; then
    cases+=("$s-any|${anyf[*]}")
    links=""
    for l in "$d"*-links.txt; do
      n=$(basename "$l" -links.txt)
      links="$links --links $n=$l"
    done
    [ -n "$links" ] && cases+=("$s-any-links|$links ${anyf[*]}")
  fi
done
for mode in ipip vxlan bgp; do
  g=("$work/gen-$mode"/*.pcap)
  cases+=("gen-$mode|${g[*]}")
done
fail=0
run() { # bin name out args...
  local bin=$1 out=$2; shift 2
  "$bin" "$@" >"$out" 2>&1 || true
}
for c in "${cases[@]}"; do
  name=${c%%|*}
  args=${c#*|}
  for f in text markdown html json json-journeys points packets; do
    case $f in
      json-journeys) a="report --format json --journeys $args" ;;
      points) a="points $args" ;;
      packets) a="packets --format json $args" ;;
      *) a="report --format $f $args" ;;
    esac
    # shellcheck disable=SC2086
    run "$work/old" "$work/$name.$f.old" $a
    # shellcheck disable=SC2086
    run "$work/new" "$work/$name.$f.new" $a
    for side in old new; do # a panic is a failure even where both builds panic alike
      if grep -q '^panic: ' "$work/$name.$f.$side"; then
        echo "PANICS ($side): $name $f: $(grep -m1 '^panic: ' "$work/$name.$f.$side")"
        fail=1
      fi
    done
    if ! cmp -s "$work/$name.$f.old" "$work/$name.$f.new"; then
      echo "DIFFERS: $name $f"
      diff "$work/$name.$f.old" "$work/$name.$f.new" | head -20 || true # diff's status: not the script's end
      fail=1
    fi
  done
done
echo "compared ${#cases[@]} inputs x 7 outputs against $ref: $([ $fail = 0 ] && echo identical || echo DIFFERENT)"
[ -n "${KEEP:-}" ] && echo "outputs kept in $work"
exit $fail
