#!/bin/bash
# make-state.sh: builds retina-state/, two Retina capture tarballs (the layout make.sh's retina/ has)
# from the committed state-blackhole-route lab scenario: node-b's main routing table holds
# "blackhole 10.244.1.0/26", so pod-b's replies to pod-a are dropped there. Each tarball holds the
# node's -i any capture and an ip-resources.txt laid out as Retina writes it (a summary of the
# commands, then each command line, a blank line and its output; the same layout lab.sh writes for
# ANY_ONLY runs) from the node's dumps in the scenario: `ip -d -j addr`, `ip -j neigh`, and `ip route`
# (the scenario dumped the main table, so the local table's lines are absent). No tcpdump.log: the
# scenario has none. Needs only bash and tar; the fixtures are committed, tests never run it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SC=$HERE/../lab/scenarios/state-blackhole-route
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
rm -rf "$HERE/retina-state"
mkdir -p "$HERE/retina-state"
i=0
for nd in node-a node-b; do
	name="incident-$nd-2026120216000${i}UTC"
	d=$TMP/$name
	mkdir -p "$d"
	cp "$SC/$nd-any.pcap" "$d/$name.pcap"
	{
		printf 'Summary:\n\n'
		printf '/usr/sbin/ip -d -j addr show(IP address configuration)\n'
		printf '/usr/sbin/ip -d -j neighbor show(IP neighbor status)\n'
		printf '/usr/sbin/ip rule list(Policy routing list)\n'
		printf '/usr/sbin/ip route show table all(Routes of all route tables)\n'
		printf '\nExecute:\n\n'
		printf '/usr/sbin/ip -d -j addr show\n\n'
		cat "$SC/$nd-addr.json"
		printf '/usr/sbin/ip -d -j neighbor show\n\n'
		cat "$SC/$nd-neigh.json"
		printf '/usr/sbin/ip rule list\n\n'
		printf '0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n'
		printf '/usr/sbin/ip route show table all\n\n'
		cat "$SC/$nd-routes.txt"
	} >"$d/ip-resources.txt"
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-12-02 16:00:00Z' \
		-C "$d" -czf "$HERE/retina-state/$name.tar.gz" ip-resources.txt "$name.pcap"
	i=$((i + 1))
done
# The cluster's nodes, as make.sh writes them for retina/ (the same lab addresses): without them the
# tarballs' shared "incident-node" prefix would be taken for the capture name.
cp "$HERE/retina/nodes.json" "$HERE/retina-state/"
echo "fixtures written in $HERE/retina-state"
