#!/bin/bash
# make.sh LABOUT: builds the capture-bundle fixtures of this directory from a lab run
# (testdata/lab/lab.sh -o LABOUT any-underlay-drop) and the committed healthy-ipip scenario, in the layouts the tools leave:
#
#   retina/        two Retina capture tarballs (<capture>-<node>-<YYYYmmddHHMMSS>UTC.tar.gz holding
#                  <same name>.pcap from tcpdump -i any, ip-resources.txt and tcpdump.log), as
#                  microsoft/retina's capture job writes them, and the cluster's nodes
#                  (kubectl get nodes -o json) beside them
#   retina-links/  the same nodes' `ip -o link`, for the test that reads the plain captures
#   packetcapture/ a Calico PacketCapture tree: <namespace>/<capture>/<workload endpoint>_<iface>.pcap,
#                  the endpoint's capture cut into a rotated piece and the active file
#
# Run it as root where lab.sh runs; the fixtures are committed, tests never run it. The pcapng
# fixtures (gadget/, capture-loss/) come from `go run ./testdata/bundles/mkfix`.
set -euo pipefail
LAB=${1:?usage: make.sh LABOUT}
HERE=$(cd "$(dirname "$0")" && pwd)
ANY=$LAB/any-underlay-drop
HI=$HERE/../lab/scenarios/healthy-ipip # the committed scenario: the test compares with its files
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

rm -rf "$HERE/retina" "$HERE/retina-links" "$HERE/packetcapture"
mkdir -p "$HERE/retina" "$HERE/retina-links"
i=0
for nd in node-a node-b; do
	# Retina's file.CaptureFilename: <capture>-<hostname>-<start time, %Y%m%d%H%M%S%Z>.
	name="incident-$nd-2026120215350${i}UTC"
	d=$TMP/$name
	mkdir -p "$d"
	cp "$ANY/$nd-any.pcap" "$d/$name.pcap"
	cp "$ANY/$nd-ip-resources.txt" "$d/ip-resources.txt"
	cp "$ANY/$nd-any-tcpdump.log" "$d/tcpdump.log"
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-12-02 15:35:00Z' \
		-C "$d" -czf "$HERE/retina/$name.tar.gz" ip-resources.txt "$name.pcap" tcpdump.log
	cp "$ANY/$nd-links.txt" "$HERE/retina-links/"
	i=$((i + 1))
done
# kubectl get nodes -o json, cut to what names the lab's nodes: names and InternalIP (from the
# lab's address dumps, eth0's address).
addr() { python3 -c 'import json,sys; print([a["local"] for l in json.load(open(sys.argv[1])) if l["ifname"] == "eth0" for a in l["addr_info"] if a["family"] == "inet"][0])' "$ANY/$1-ipaddr.json"; }
cat >"$HERE/retina/nodes.json" <<JSON
{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "annotations": {
                    "projectcalico.org/IPv4Address": "$(addr node-a)/24"
                },
                "name": "node-a"
            },
            "status": {
                "addresses": [
                    {
                        "address": "$(addr node-a)",
                        "type": "InternalIP"
                    },
                    {
                        "address": "node-a",
                        "type": "Hostname"
                    }
                ]
            }
        },
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "annotations": {
                    "projectcalico.org/IPv4Address": "$(addr node-b)/24"
                },
                "name": "node-b"
            },
            "status": {
                "addresses": [
                    {
                        "address": "$(addr node-b)",
                        "type": "InternalIP"
                    },
                    {
                        "address": "node-b",
                        "type": "Hostname"
                    }
                ]
            }
        }
    ],
    "kind": "List",
    "metadata": {
        "resourceVersion": ""
    }
}
JSON

# Calico PacketCapture: Felix writes <ns>/<capture>/<workload endpoint>_<host iface>.pcap; the
# workload endpoint of pod default/pod-a on node-a is node--a-k8s-pod--a-eth0 (dashes doubled).
pc=$HERE/packetcapture/default/incident
mkdir -p "$pc"
for nd in a b; do
	cali=$(basename "$HI"/node-$nd-cali*.pcap .pcap)
	cali=${cali#node-$nd-}
	wep="node--$nd-k8s-pod--$nd-eth0"
	if [ $nd = a ]; then
		# A rotated piece (the first 20 frames) and the active file (the rest).
		editcap -F nsecpcap -r "$HI/node-$nd-$cali.pcap" "$pc/${wep}_$cali.1764689700.pcap" 1-20
		editcap -F nsecpcap "$HI/node-$nd-$cali.pcap" "$pc/${wep}_$cali.pcap" 1-20
	else
		cp "$HI/node-$nd-$cali.pcap" "$pc/${wep}_$cali.pcap"
	fi
done
echo "fixtures written in $HERE"
