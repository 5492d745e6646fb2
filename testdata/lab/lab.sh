#!/usr/bin/env bash
# lab.sh builds a two-node Calico datapath in network namespaces on the real
# kernel, drives a little traffic through it while tcpdump captures every
# interface, and writes the captures plus a truth file per scenario.
#
#   sudo testdata/lab/lab.sh list
#   sudo testdata/lab/lab.sh [-o OUTDIR] healthy-ipip [more scenarios...]
#   sudo testdata/lab/lab.sh [-o OUTDIR] all
#
# OUTDIR defaults to testdata/lab/scenarios (testdata/lab/scenarios-pending
# for the scenarios calipath cannot follow yet, listed in PENDING); each
# scenario goes to OUTDIR/<scenario>/. Everything it creates lives in
# namespaces named "cpl<pid>-*"; they are deleted on exit, whatever happens.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LAB_DIR/../.." && pwd)
OUT=""
PFX="cpl$$"
TMP=""
PIDS=()

SCENARIOS=(healthy-ipip healthy-vxlan healthy-bgp underlay-drop-proto4 ipip-input-drop tunl0-cali-drop
	proxy-arp-off no-default-route mtu-blackhole pmtu-discovery clusterip-dnat snat-external
	underlay-loss clock-skew clock-drift tcp-retransmission two-routers two-routers-drop-r2
	df-ping-refused healthy-vxlan-offload any-ipip-input-drop any-underlay-drop any-bgp-forward-drop
	any-bgp-underlay-drop
	state-blackhole-route state-missing-route state-neigh-failed state-low-mtu state-no-default-route
	healthy-wireguard wireguard-underlay-loss wireguard-blocked wireguard-mtu-blackhole wireguard-fragmented
	wireguard-bypass same-node vlan-ipip vlan-loss router-any-bgp router-any-drop router-any-ipip
	router-three-ifaces router-three-ifaces-any router-three-ifaces-drop healthy-vxlan6 vxlan6-underlay-drop
	ndp-gateway-off6 late-capture pmtu-discovery6 mtu-blackhole6 oneway state-neigh-failed6
	nat-error-late nodeport-cluster nodeport-cluster-drop hairpin-clusterip host-to-pod clusterip-two-nodes
	nodeport-local nat-midstream snat-address-midstream egress-gateway port-reuse port-reuse-nat)

# Scenarios calipath cannot follow yet (see the README). They go to scenarios-pending/, out of the
# globs of calipath's lab and report tests; the truth tests read them.
PENDING=()

# Addresses: they exist only inside the lab's namespaces.
NODE_A_IP=192.168.10.2 NODE_B_IP=192.168.20.2 R_A_IP=192.168.10.1 R_B_IP=192.168.20.1
R_EXT_IP=203.0.113.1 EXT_IP=203.0.113.10
# snat-address-midstream: node-a's SNAT address (not its own node address) and a Service's external IP.
SNAT_ADDR=192.168.10.50 EXT_SVC_IP=192.168.10.60
R12_A_IP=192.168.30.1 R12_B_IP=192.168.30.2 # the link between router-1 and router-2 (two-routers)
BLOCK_A=10.244.1.0/26 BLOCK_B=10.244.2.0/26 TUN_A=10.244.1.0 TUN_B=10.244.2.0
POD_A_IP=10.244.1.5 POD_B_IP=10.244.2.7 SVC_IP=10.96.0.10
POD_C_IP=10.244.1.9 # wireguard-bypass, same-node, clusterip-two-nodes: a second pod on node-a
EGW_IP=10.244.2.12 EGW_TABLE=200 # egress-gateway: the gateway pod egw-1 on node-b, and the routing table for it
DEAD_HOP_IP=192.168.20.99 # state-neigh-failed: a next hop on node-b's link that nothing answers for
VLAN_ID=100 # vlan-ipip: the 802.1Q VLAN of the node-a ↔ router-1 link
# IPv6 (healthy-vxlan6): an IPv6 underlay, pods with /128 addresses from /122 blocks of one pool,
# and Calico's IPv6 VXLAN device; the pods' gateway is the host-side cali's link-local address
# (from its MAC ee:ee:ee:ee:ee:ee).
NODE_A6=fd00:10::2 NODE_B6=fd00:20::2 R_A6=fd00:10::1 R_B6=fd00:20::1
BLOCK_A6=fd00:244::/122 BLOCK_B6=fd00:244::40/122 TUN_A6=fd00:244:: TUN_B6=fd00:244::40
POD_A6=fd00:244::5 POD_B6=fd00:244::47 GW6=fe80::ecee:eeff:feee:eeee
DEAD_HOP6=fd00:20::99 # state-neigh-failed6: a next hop on node-b's link that nothing answers for
VX6_IF=vxlan-v6.calico VX6_MTU=1430 # host MTU - 70
# WireGuard as Felix configures it (FelixConfiguration defaults): device, port, MTU (1500 - 60),
# the firewall mark Felix allocates for it, its routing table and the rule's priority.
WG_IF=wireguard.cali WG_PORT=51820 WG_MTU=1440 WG_MARK=0x100000 WG_TABLE=1 WG_PRIO=99

die() { echo "lab: $*" >&2; exit 1; }
ns() { echo "$PFX-$1"; }
nsx() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }
calname() { printf 'cali%s' "$(printf '%s' "$1" | sha1sum | cut -c1-11)"; }
vtepmac() { printf '66:%s' "$(printf '%s' "$1" | sha1sum | cut -c1-10 | sed 's/../&:/g; s/:$//')"; }
log() { echo "$*" >>"$DIR/lab.log"; }

cleanup() {
	[ ${#PIDS[@]} -gt 0 ] && stopall "${PIDS[@]}"
	PIDS=()
	local n
	for n in $(ip netns list | awk '{print $1}' | grep "^$PFX-" || true); do
		ip netns pids "$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		ip netns del "$n" 2>/dev/null || true
	done
}
trap 'cleanup; [ -n "$TMP" ] && rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

mkns() {
	ip netns add "$(ns "$1")"
	if [ "${V6:-}" = 1 ]; then
		# IPv6 scenarios: IPv6 on, and no duplicate address detection, so that addresses (the
		# cali's link-local gateway among them) work at once instead of after a second of DAD.
		nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
			net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	else
		nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	fi
	nsx "$1" ip link set lo up
}

# veth NS1 IF1 NS2 IF2: a veth pair created directly inside the namespaces.
veth() {
	ip -n "$(ns "$1")" link add "$2" type veth peer name "$4" netns "$(ns "$3")"
}

# node NAME IP GW [ROUTER]: a node namespace with its underlay eth0 towards ROUTER's interface GW
# (router-1 unless said).
node() {
	mkns "$1"
	veth "$1" eth0 "${4:-router-1}" "$3"
	nsx "$1" sysctl -qw net.ipv4.ip_forward=1
	local dev; dev=$(uldev "$1")
	[ "$dev" != eth0 ] && vlan_dev "$1" # VLAN=1: node-a's address is on a VLAN sub-interface of its eth0
	ip -n "$(ns "$1")" addr add "$2/24" dev "$dev"
	ip -n "$(ns "$1")" link set "$dev" up
}

# vlan_dev NS: eth0.<VLAN_ID> on NS's eth0. This kernel has no 8021q module (`ip link add link eth0
# name eth0.100 type vlan id 100` fails: "Unknown device type"), so, as for tunl0, a userspace
# daemon (vland) drives a TAP device of that name: what the kernel sends on it leaves eth0 tagged,
# and what eth0 receives with the VLAN's tag reaches it untagged.
vlan_dev() {
	local n; n=$(ns "$1")
	ip -n "$n" link set eth0 up
	ip -n "$n" tuntap add "eth0.$VLAN_ID" mode tap
	ip netns exec "$n" "$TMP/vland" -dev "eth0.$VLAN_ID" -parent eth0 -id "$VLAN_ID" 2>"$DIR/$1-vland.log" &
	PIDS+=($!)
	waitfor "$DIR/$1-vland.log" "attached to"
}

# uldev NAME: the device holding a node's (or router-1's, toward node-a) underlay address: eth0, or
# with VLAN=1 (vlan-ipip) node-a's and router-1's VLAN sub-interface eth0.<id> on their eth0.
uldev() {
	if [ "${VLAN:-}" = 1 ] && { [ "$1" = node-a ] || [ "$1" = router-1 ]; }; then
		echo "eth0.$VLAN_ID"
	else
		echo eth0
	fi
}

# podmac POD: the MAC of the pod's eth0 (random, the kernel's): Calico's WorkloadEndpoint spec.mac,
# which k8smeta writes.
podmac() { ip -n "$(ns "$1")" -o link show eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2; }

# pod NODE POD IP MTU: a workload wired as Felix and the CNI plugin wire it.
pod() {
	local nd=$1 pd=$2 ip=$3 mtu=$4 cali
	cali=$(calname "default.$pd")
	mkns "$pd"
	ip -n "$(ns "$nd")" link add "$cali" type veth peer name eth0 netns "$(ns "$pd")"
	ip -n "$(ns "$nd")" link set "$cali" address ee:ee:ee:ee:ee:ee
	nsx "$nd" sysctl -qw "net.ipv4.conf.$cali.proxy_arp=1" "net.ipv4.neigh.$cali.proxy_delay=0" \
		"net.ipv4.conf.$cali.forwarding=1" "net.ipv4.conf.$cali.rp_filter=1"
	ip -n "$(ns "$nd")" link set "$cali" up
	ip -n "$(ns "$nd")" route add "$ip" dev "$cali" scope link
	ip -n "$(ns "$pd")" addr add "$ip/32" dev eth0
	ip -n "$(ns "$pd")" link set eth0 mtu "$mtu" up
	ip -n "$(ns "$pd")" route add 169.254.1.1 dev eth0 scope link
	ip -n "$(ns "$pd")" route add default via 169.254.1.1 dev eth0
	log "pod name=$pd namespace=default node=$nd ip=$ip iface=$cali mac=$(podmac "$pd")"
}

ipip_node() { # NODE LOCAL_IP TUN_IP REMOTE_BLOCK REMOTE_IP [EXTRA_ROUTE]
	ip -n "$(ns "$1")" tuntap add tunl0 mode tun
	ip -n "$(ns "$1")" link set tunl0 mtu 1480 up
	ip -n "$(ns "$1")" addr add "$3/32" dev tunl0
	ip -n "$(ns "$1")" route add "$4" via "$5" dev tunl0 proto 80 onlink
	local extra=()
	[ -n "${6:-}" ] && extra=(-route "$6")
	ip netns exec "$(ns "$1")" "$TMP/ipipd" -dev tunl0 -local "$2" -route "$4=$5" "${extra[@]}" 2>"$DIR/$1-ipipd.log" &
	PIDS+=($!)
}

vxlan_node() { # NODE LOCAL_IP TUN_IP REMOTE_NODE REMOTE_BLOCK REMOTE_TUN_IP REMOTE_IP
	local n; n=$(ns "$1")
	local csum=noudpcsum
	if [ "${VXLAN_UDPCSUM:-}" = 1 ]; then
		csum=udpcsum
		log "rule node=$1 cmd=ip link add vxlan.calico type vxlan id 4096 dstport 4789 local $2 dev eth0 nolearning udpcsum"
	fi
	ip -n "$n" link add vxlan.calico type vxlan id 4096 dstport 4789 local "$2" dev eth0 nolearning "$csum"
	ip -n "$n" link set vxlan.calico address "$(vtepmac "$1")" mtu 1450 up
	ip -n "$n" addr add "$3/32" dev vxlan.calico
	ip -n "$n" neigh add "$6" lladdr "$(vtepmac "$4")" dev vxlan.calico nud permanent
	nsx "$1" bridge fdb add "$(vtepmac "$4")" dev vxlan.calico dst "$7"
	ip -n "$n" route add "$5" via "$6" dev vxlan.calico proto 80 onlink
}

# wg_node NODE LOCAL_IP WG_IP PEER PEER_IP PEER_BLOCK: WireGuard on a node as Felix programs it, on
# top of the BGP routes (a pool with neither IPIP nor VXLAN): wgd (userspace wireguard-go, this
# kernel has no wireguard module) creates wireguard.cali (MTU 1440) and listens on UDP 51820 with
# firewall mark 0x100000; the peer is the other node (its node IP as endpoint, its block as allowed
# IPs); the device gets an address from the node's block; table 1 routes the peer's block to the
# device, and the rule "not fwmark 0x100000/0x100000 lookup 1" (priority 99) sends every packet
# but WireGuard's own through that table first. wgd writes a Wireshark keylog (NODE-wg.keys): the
# lab can decrypt what it captured, calipath is never given the keys.
wg_node() {
	local n; n=$(ns "$1")
	[ -s "$TMP/$1.key" ] || die "no WireGuard key for $1"
	ip netns exec "$n" "$TMP/wgd" up -dev "$WG_IF" -mtu "$WG_MTU" -port "$WG_PORT" -fwmark "$WG_MARK" \
		-key "$TMP/$1.key" -peer "$(cat "$TMP/$4.pub")" -endpoint "$5:$WG_PORT" -allowed "$6" \
		-keylog "$DIR/$1-wg.keys" 2>"$DIR/$1-wgd.log" &
	PIDS+=($!)
	waitfor "$DIR/$1-wgd.log" "attached to $WG_IF"
	ip -n "$n" addr add "$3/32" dev "$WG_IF"
	ip -n "$n" link set "$WG_IF" up
	nsx "$1" sysctl -qw net.ipv4.conf.all.src_valid_mark=1
	ip -n "$n" rule add not fwmark "$WG_MARK/$WG_MARK" table "$WG_TABLE" priority "$WG_PRIO"
	ip -n "$n" route add "$6" dev "$WG_IF" table "$WG_TABLE" proto 80 scope link
	log "wireguard node=$1 ip=$2 port=$WG_PORT public_key=$(cat "$TMP/$1.pub") iface=$WG_IF mtu=$WG_MTU fwmark=$WG_MARK table=$WG_TABLE priority=$WG_PRIO address=$3 peer=$4 endpoint=$5:$WG_PORT allowed=$6"
}

# pod6 NODE POD IP MTU: an IPv6 workload as Felix and the CNI plugin wire it: a /128 on the pod's
# eth0, its default route via the host-side cali's link-local address (fe80::ecee:eeff:feee:eeee,
# from the MAC ee:ee:ee:ee:ee:ee), which the node answers neighbour solicitations for itself; on the
# node, forwarding on the cali, no router advertisements accepted, and "<ip> dev <cali>".
pod6() {
	local nd=$1 pd=$2 ip=$3 mtu=$4 cali
	cali=$(calname "default.$pd")
	mkns "$pd"
	ip -n "$(ns "$nd")" link add "$cali" type veth peer name eth0 netns "$(ns "$pd")"
	ip -n "$(ns "$nd")" link set "$cali" address ee:ee:ee:ee:ee:ee
	nsx "$nd" sysctl -qw "net.ipv6.conf.$cali.forwarding=1" "net.ipv6.conf.$cali.accept_ra=0"
	ip -n "$(ns "$nd")" link set "$cali" up
	ip -n "$(ns "$nd")" -6 route add "$ip/128" dev "$cali"
	ip -n "$(ns "$pd")" -6 addr add "$ip/128" dev eth0
	# V6_QUIET: no router solicitation from the pod (it has a static default route), so that no
	# capture holds a frame seconds before the others' first (healthy-vxlan6's pods sent them).
	[ "${V6_QUIET:-}" = 1 ] && nsx "$pd" sysctl -qw net.ipv6.conf.eth0.router_solicitations=0
	ip -n "$(ns "$pd")" link set eth0 mtu "$mtu" up
	ip -n "$(ns "$pd")" -6 route add default via "$GW6" dev eth0
	log "pod name=$pd namespace=default node=$nd ip=$ip iface=$cali mac=$(podmac "$pd")"
}

# vxlan6_node NODE LOCAL_IP TUN_IP REMOTE_NODE REMOTE_BLOCK REMOTE_TUN_IP REMOTE_IP: Calico's IPv6
# VXLAN device, vxlan-v6.calico: VNI 4096, port 4789 over the IPv6 underlay, MTU host - 70, the
# VTEP MAC as for vxlan.calico, a /128 from the node's block, a permanent neighbour and an FDB
# entry for the remote VTEP and "<remote block> via <remote VTEP> dev vxlan-v6.calico onlink".
# UDP checksums stay the kernel's IPv6 default (computed; zero checksums are off).
vxlan6_node() {
	local n; n=$(ns "$1")
	ip -n "$n" link add "$VX6_IF" type vxlan id 4096 dstport 4789 local "$2" dev eth0 nolearning
	ip -n "$n" link set "$VX6_IF" address "$(vtepmac "$1")" mtu "$VX6_MTU" up
	ip -n "$n" -6 addr add "$3/128" dev "$VX6_IF"
	ip -n "$n" -6 neigh add "$6" lladdr "$(vtepmac "$4")" dev "$VX6_IF" nud permanent
	nsx "$1" bridge fdb add "$(vtepmac "$4")" dev "$VX6_IF" dst "$7"
	ip -n "$n" -6 route add "$5" via "$6" dev "$VX6_IF" proto 80 onlink
}

# build6: the IPv6 topology (healthy-vxlan6): node-a fd00:10::2 ── router-1 eth0 fd00:10::1 |
# eth1 fd00:20::1 ── node-b fd00:20::2, IPv6 only, VXLAN over IPv6 between the nodes.
build6() {
	local r; r=$(ns router-1)
	mkns router-1
	nsx router-1 sysctl -qw net.ipv6.conf.all.forwarding=1
	local nd ip gw
	for nd in node-a node-b; do
		ip=$NODE_A6 gw=eth0
		[ "$nd" = node-b ] && ip=$NODE_B6 gw=eth1
		mkns "$nd"
		veth "$nd" eth0 router-1 "$gw"
		nsx "$nd" sysctl -qw net.ipv6.conf.all.forwarding=1
		ip -n "$(ns "$nd")" -6 addr add "$ip/64" dev eth0
		ip -n "$(ns "$nd")" link set eth0 up
	done
	ip -n "$r" -6 addr add "$R_A6/64" dev eth0
	ip -n "$r" -6 addr add "$R_B6/64" dev eth1
	ip -n "$r" link set eth0 up
	ip -n "$r" link set eth1 up
	ip -n "$(ns node-a)" -6 route add default via "$R_A6" dev eth0
	ip -n "$(ns node-b)" -6 route add default via "$R_B6" dev eth0
	log "mode vxlan family=6"
	log "node name=node-a ip=$NODE_A6 block=$BLOCK_A6 tunnel_ip=$TUN_A6 vtep_mac=$(vtepmac node-a)"
	log "node name=node-b ip=$NODE_B6 block=$BLOCK_B6 tunnel_ip=$TUN_B6 vtep_mac=$(vtepmac node-b)"
	log "router name=router-1 ifaces=eth0,eth1 node-a=eth0 node-b=eth1"
	pod6 node-a pod-a "$POD_A6" "$VX6_MTU"
	pod6 node-b pod-b "$POD_B6" "$VX6_MTU"
	vxlan6_node node-a "$NODE_A6" "$TUN_A6" node-b "$BLOCK_B6" "$TUN_B6" "$NODE_B6"
	vxlan6_node node-b "$NODE_B6" "$TUN_B6" node-a "$BLOCK_A6" "$TUN_A6" "$NODE_A6"
	TIF=$VX6_IF
}

# two_routers MODE: node-b behind a second router. router-1 eth1 (192.168.30.1) is linked to
# router-2 eth0 (192.168.30.2), and router-2 eth1 (192.168.20.1) to node-b, so a packet between the
# nodes crosses two routed hops: the outer TTL falls by one at each.
two_routers() {
	local r1 r2; r1=$(ns router-1) r2=$(ns router-2)
	mkns router-2
	nsx router-2 sysctl -qw net.ipv4.ip_forward=1
	node node-b "$NODE_B_IP" eth1 router-2
	veth router-1 eth1 router-2 eth0
	ip -n "$r1" addr add "$R12_A_IP/24" dev eth1
	ip -n "$r2" addr add "$R12_B_IP/24" dev eth0
	ip -n "$r2" addr add "$R_B_IP/24" dev eth1
	ip -n "$r1" link set eth1 up
	ip -n "$r2" link set eth0 up
	ip -n "$r2" link set eth1 up
	ip -n "$r1" route add 192.168.20.0/24 via "$R12_B_IP" dev eth1
	ip -n "$r2" route add 192.168.10.0/24 via "$R12_A_IP" dev eth0
	if [ "$1" = bgp ]; then
		ip -n "$r1" route add "$BLOCK_B" via "$R12_B_IP" dev eth1 proto bird
		ip -n "$r2" route add "$BLOCK_A" via "$R12_A_IP" dev eth0 proto bird
		ip -n "$r2" route add "$BLOCK_B" via "$NODE_B_IP" dev eth1 proto bird
	fi
}

# build MODE: the whole topology, with node default routes.
build() {
	local mode=$1 mtu=1500 tif=""
	case $mode in
	ipip) mtu=1480 tif=tunl0 ;;
	vxlan) mtu=1450 tif=vxlan.calico ;;
	bgp) ;;
	wireguard) mtu=$WG_MTU tif=$WG_IF ;;
	*) die "mode $mode" ;;
	esac
	mkns router-1
	nsx router-1 sysctl -qw net.ipv4.ip_forward=1
	node node-a "$NODE_A_IP" eth0
	local r; r=$(ns router-1)
	if [ -n "${TWO_ROUTERS:-}" ]; then
		two_routers "$mode"
	else
		node node-b "$NODE_B_IP" eth1
		ip -n "$r" addr add "$R_B_IP/24" dev eth1
	fi
	local ula ulr; ula=$(uldev node-a) ulr=$(uldev router-1)
	ip -n "$r" link set eth0 up
	[ "$ulr" != eth0 ] && vlan_dev router-1
	ip -n "$r" addr add "$R_A_IP/24" dev "$ulr"
	ip -n "$r" link set "$ulr" up
	ip -n "$r" link set eth1 up
	if [ "${NO_DEFAULT_A:-}" = 1 ]; then
		ip -n "$(ns node-a)" route add 192.168.20.0/24 via "$R_A_IP" dev "$ula"
	else
		ip -n "$(ns node-a)" route add default via "$R_A_IP" dev "$ula"
	fi
	ip -n "$(ns node-b)" route add default via "$R_B_IP" dev eth0
	log "mode $mode"
	if [ "$ula" != eth0 ]; then
		log "vlan node=node-a iface=$ula parent=eth0 id=$VLAN_ID"
		log "vlan node=router-1 iface=$ulr parent=eth0 id=$VLAN_ID"
	fi
	log "node name=node-a ip=$NODE_A_IP block=$BLOCK_A tunnel_ip=${tif:+$TUN_A} vtep_mac=$([ "$mode" = vxlan ] && vtepmac node-a)"
	log "node name=node-b ip=$NODE_B_IP block=$BLOCK_B tunnel_ip=${tif:+$TUN_B} vtep_mac=$([ "$mode" = vxlan ] && vtepmac node-b)"
	if [ -n "${TWO_ROUTERS:-}" ]; then
		log "router name=router-1 ifaces=eth0,eth1 node-a=eth0 router-2=eth1"
		log "router name=router-2 ifaces=eth0,eth1 router-1=eth0 node-b=eth1"
	else
		log "router name=router-1 ifaces=eth0,eth1${WITH_EXT:+,eth2} node-a=eth0 node-b=eth1${WITH_EXT:+ ext-1=eth2}"
	fi
	pod node-a pod-a "$POD_A_IP" "$mtu"
	pod node-b pod-b "$POD_B_IP" "$mtu"
	[ -n "${POD_C:-}" ] && pod node-a pod-c "$POD_C_IP" "$mtu"
	[ -n "${EGW:-}" ] && pod node-b egw-1 "$EGW_IP" "$mtu"
	case $mode in
	ipip)
		# egress-gateway: node-a's ipipd also tunnels to node-b what its table for pod-a (egress_gateway)
		# routes into tunl0 toward the outside: a TUN device has no next hop, so ipipd takes the outer
		# destination from its routes by the inner destination, as the kernel's NBMA tunl0 takes it from
		# the route's gateway (via node-b's address).
		ipip_node node-a "$NODE_A_IP" "$TUN_A" "$BLOCK_B" "$NODE_B_IP" ${EGW:+"0.0.0.0/0=$NODE_B_IP"}
		ipip_node node-b "$NODE_B_IP" "$TUN_B" "$BLOCK_A" "$NODE_A_IP"
		;;
	vxlan)
		vxlan_node node-a "$NODE_A_IP" "$TUN_A" node-b "$BLOCK_B" "$TUN_B" "$NODE_B_IP"
		vxlan_node node-b "$NODE_B_IP" "$TUN_B" node-a "$BLOCK_A" "$TUN_A" "$NODE_A_IP"
		;;
	bgp | wireguard)
		ip -n "$(ns node-a)" route add "$BLOCK_B" via "$R_A_IP" dev "$ula" proto bird
		ip -n "$(ns node-b)" route add "$BLOCK_A" via "$R_B_IP" dev eth0 proto bird
		ip -n "$r" route add "$BLOCK_A" via "$NODE_A_IP" dev "$ulr" proto bird
		if [ -z "${TWO_ROUTERS:-}" ]; then
			ip -n "$r" route add "$BLOCK_B" via "$NODE_B_IP" dev eth1 proto bird
		fi
		if [ "$mode" = wireguard ]; then
			wg_node node-a "$NODE_A_IP" "$TUN_A" node-b "$NODE_B_IP" "$BLOCK_B"
			wg_node node-b "$NODE_B_IP" "$TUN_B" node-a "$NODE_A_IP" "$BLOCK_A"
		fi
		;;
	esac
	if [ -n "${WITH_EXT:-}" ]; then
		mkns ext-1
		veth router-1 eth2 ext-1 eth0
		ip -n "$r" addr add "$R_EXT_IP/24" dev eth2
		ip -n "$r" link set eth2 up
		ip -n "$(ns ext-1)" addr add "$EXT_IP/24" dev eth0
		ip -n "$(ns ext-1)" link set eth0 up
		ip -n "$(ns ext-1)" route add default via "$R_EXT_IP" dev eth0
		log "external name=ext-1 ip=$EXT_IP iface=eth0"
	fi
	TIF=$tif
}

# rule NODE CMD...: apply a breaking/NAT rule in a namespace and log it.
rule() {
	local n=$1; shift
	nsx "$n" "$@"
	log "rule node=$n cmd=$*"
}

# waitfor FILE PATTERN: wait until a capture process reports it is listening.
waitfor() {
	local i
	for i in $(seq 1 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	die "timeout waiting for $2 in $1: $(cat "$1")"
}

# cap NODE IFACE ROLE: tcpdump on one interface. The 32 MiB buffer matters: with tcpdump's
# default (2 MiB) each -i any capture dropped 11 to 14 frames of a healthy-ipip run ("packets
# dropped by kernel"). In an any-only scenario (ANY_ONLY=1) the per-interface captures go to
# truth-captures/, for the truth computer to check the -i any files against ("check" lines).
cap() {
	local f="$1-$2.pcap" kind=point
	[ "$2" = any ] && f="$1-any.pcap"
	# ROUTER_ANY=1: router-1 is captured with one -i any; its per-interface captures are the check.
	if { [ "${ANY_ONLY:-}" = 1 ] || { [ "${ROUTER_ANY:-}" = 1 ] && [ "$1" = router-1 ]; }; } && [ "$2" != any ]; then
		f="truth-captures/$f" kind=check
		mkdir -p "$DIR/truth-captures"
	fi
	local sll=()
	# ROLE sll1: a second -i any capture in Linux cooked v1 (tcpdump -y LINUX_SLL, as tcpdump before
	# 4.99 writes it: no interface index), beside the cooked v2 one, of the same packets. It goes to
	# sll1/, out of the globs that hand a scenario's captures to calipath ("sll1" lines).
	if [ "$3" = sll1 ]; then
		sll=(-y LINUX_SLL) f="sll1/$1-any.pcap" kind=sll1
		mkdir -p "$DIR/sll1"
	fi
	ip netns exec "$(ns "$1")" tcpdump -i "$2" "${sll[@]}" -B 32768 -U --immediate-mode -n -s 262144 --time-stamp-precision=nano -w "$DIR/$f" 2>"$TMP/cap-$1-$2${sll:+-sll1}.log" &
	CAPS+=($!)
	waitfor "$TMP/cap-$1-$2${sll:+-sll1}.log" "listening on"
	log "$kind node=$1 iface=$2 role=$3 file=$f"
}

start_captures() {
	CAPS=()
	local nd cali
	for nd in node-a node-b; do
		cali=$(calname "default.pod-${nd#node-}")
		cap "$nd" "$cali" workload
		[ -n "$TIF" ] && cap "$nd" "$TIF" tunnel
		[ "$(uldev "$nd")" != eth0 ] && cap "$nd" "$(uldev "$nd")" underlay # untagged, before the parent
		# late-capture: node-b's eth0 is captured late (late_capture), and node-b has no -i any
		# capture (it would cover eth0 from the start).
		[ "${LATE_CAP:-}" = 1 ] && [ "$nd" = node-b ] && continue
		# nat-error-late: node-a's cali capture is cut to begin late (cut_late), and node-a has neither
		# an -i any capture nor its dumpcap file (both would cover the cali from the start).
		[ "${LATE_CALI_A:-}" = 1 ] && [ "$nd" = node-a ] && cap "$nd" eth0 underlay && continue
		cap "$nd" eth0 underlay
		cap "$nd" any any
		[ "${ANY_SLL1:-}" = 1 ] && cap "$nd" any sll1
	done
	[ -n "${POD_C:-}" ] && cap node-a "$(calname default.pod-c)" workload
	[ -n "${EGW:-}" ] && cap node-b "$(calname default.egw-1)" workload
	if [ "${DUMP_STATE:-}" != 1 ]; then # the state-* scenarios capture on the nodes only, as users do
		# NO_R1_ETH0=1 (oneway): router-1's link to node-a is not captured, so node-a's clock meets
		# router-1's and ext-1's one way only (their replies come from no address of a known node).
		[ "${NO_R1_ETH0:-}" = 1 ] || cap router-1 eth0 router
		cap router-1 eth1 router
	fi
	if [ "${ROUTER_ANY:-}" = 1 ]; then
		# router-1 as operators often capture a router or a Linux gateway: one tcpdump -i any
		# (cooked v2, interface indexes), its `ip -o link` to name them, and the same moments in
		# cooked v1 (-y LINUX_SLL: no interface index) under sll1/.
		cap router-1 any any
		cap router-1 any sll1
		nsx router-1 ip -o link >"$DIR/router-1-links.txt"
		log "links node=router-1 file=router-1-links.txt"
	fi
	if [ -n "${TWO_ROUTERS:-}" ]; then
		cap router-2 eth0 router
		cap router-2 eth1 router
	fi
	if [ -n "${WITH_EXT:-}" ]; then
		cap router-1 eth2 router
		cap ext-1 eth0 external
	fi
	if [ "${ANY_ONLY:-}" = 1 ]; then
		# What a user with one tcpdump -i any per node also saves: the interface index → name map.
		for nd in node-a node-b; do
			nsx "$nd" ip -o link >"$DIR/$nd-links.txt"
			log "links node=$nd file=$nd-links.txt"
			# And what a Retina capture bundle holds in ip-resources.txt (microsoft/retina
			# pkg/capture/provider/network_capture_unix.go: a summary of the commands, then each command
			# line, a blank line and its output): addresses with link details, neighbours, rules, routes.
			nsx "$nd" ip -d -j addr show >"$DIR/$nd-ipaddr.json"
			log "ipaddr node=$nd file=$nd-ipaddr.json"
			{
				printf 'Summary:\n\n'
				printf '/usr/sbin/ip -d -j addr show(IP address configuration)\n'
				printf '/usr/sbin/ip -d -j neighbor show(IP neighbor status)\n'
				printf '/usr/sbin/ip rule list(Policy routing list)\n'
				printf '/usr/sbin/ip route show table all(Routes of all route tables)\n'
				printf '\nExecute:\n\n'
				printf '/usr/sbin/ip -d -j addr show\n\n'
				cat "$DIR/$nd-ipaddr.json"
				printf '/usr/sbin/ip -d -j neighbor show\n\n'
				nsx "$nd" ip -d -j neighbor show
				printf '/usr/sbin/ip rule list\n\n'
				nsx "$nd" ip rule list
				printf '/usr/sbin/ip route show table all\n\n'
				nsx "$nd" ip route show table all
			} >"$DIR/$nd-ip-resources.txt"
			log "ip-resources node=$nd file=$nd-ip-resources.txt"
		done
		return
	fi
	[ "${LATE_CALI_A:-}" = 1 ] && return
	cali=$(calname default.pod-a)
	local args=(-i "$cali") ifs=$cali
	if [ -n "${POD_C:-}" ]; then
		args+=(-i "$(calname default.pod-c)") ifs="$ifs,$(calname default.pod-c)"
	fi
	[ -n "$TIF" ] && args+=(-i "$TIF") && ifs="$ifs,$TIF"
	[ "$(uldev node-a)" != eth0 ] && args+=(-i "$(uldev node-a)") && ifs="$ifs,$(uldev node-a)"
	args+=(-i eth0) ifs="$ifs,eth0"
	ip netns exec "$(ns node-a)" dumpcap -q -n "${args[@]}" -w "$DIR/node-a.pcapng" 2>"$TMP/cap-ng.log" &
	CAPS+=($!)
	# dumpcap -q prints nothing on start: wait until its file has a header.
	local i
	for i in $(seq 1 100); do [ -s "$DIR/node-a.pcapng" ] && break; sleep 0.05; done
	sleep 0.3
	log "multi node=node-a ifaces=$ifs file=node-a.pcapng"
}

# dump_state: each node's own state as a user saves it next to the captures, at the end of the
# traffic (the captures still running): `ip -o link`, `ip route`, `ip -j neigh` and `ip -d -j addr`
# per node, and `ip -j neigh` in each pod's namespace, named after the host end of its veth.
dump_state() {
	local nd cali
	for nd in node-a node-b; do
		nsx "$nd" ip -o link >"$DIR/$nd-links.txt"
		if [ "${V6:-}" = 1 ]; then
			nsx "$nd" ip -6 route >"$DIR/$nd-routes.txt" # an IPv6 cluster's routes
		else
			nsx "$nd" ip route >"$DIR/$nd-routes.txt"
		fi
		nsx "$nd" ip -j neigh >"$DIR/$nd-neigh.json"
		nsx "$nd" ip -d -j addr >"$DIR/$nd-addr.json"
		cali=$(calname "default.pod-${nd#node-}")
		nsx "pod-${nd#node-}" ip -j neigh >"$DIR/$nd-$cali-neigh.json"
		log "state node=$nd files=$nd-links.txt,$nd-routes.txt,$nd-neigh.json,$nd-addr.json,$nd-$cali-neigh.json"
	done
}

# stopall PID...: SIGINT (the capture tools flush and close their files),
# then SIGTERM for anything still running after 3 s, then wait.
stopall() {
	local p i
	for p in "$@"; do kill -INT "$p" 2>/dev/null || true; done
	for i in $(seq 1 60); do
		for p in "$@"; do kill -0 "$p" 2>/dev/null && break; done
		kill -0 "$p" 2>/dev/null || break
		sleep 0.05
	done
	for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

stop_captures() {
	sleep 0.3
	stopall "${CAPS[@]}"
	CAPS=()
	# A capture that lost frames would make the truth wrong: refuse it.
	local f
	for f in "$TMP"/cap-*.log; do
		if grep -Eq '^[1-9][0-9]* packets? dropped by kernel|dropped on interface .*: [0-9]+/[1-9]' "$f"; then
			die "$(basename "$f" .log) dropped frames: $(grep dropped "$f" | tr '\n' ' ')"
		fi
	done
	# The -i any captures' tcpdump output (its "N packets dropped by kernel" line), as a bundle keeps it.
	if [ "${ANY_ONLY:-}" = 1 ]; then
		for f in "$TMP"/cap-node-?-any.log; do
			[ -e "$f" ] && cp "$f" "$DIR/$(basename "$f" .log | sed 's/^cap-//')-tcpdump.log"
		done
	fi
	rm -f "$TMP"/cap-*.log
}

# client POD CMD...: run a traffic generator in a pod, log its JSON line.
client() {
	local p=$1 c=$2; shift 2
	nsx "$p" "$TMP/labtraffic" "$c" -from "$p" "$@" >>"$DIR/traffic.log" 2>>"$TMP/traffic.err"
}

server() { # NS
	local fam=()
	[ "${V6:-}" = 1 ] && fam=(-ipv6)
	ip netns exec "$(ns "$1")" "$TMP/labtraffic" serve -http :8080 -udp :9000 -body 4000 "${fam[@]}" 2>"$DIR/$1-server.log" &
	PIDS+=($!)
	local i
	local lo=127.0.0.1
	[ "${V6:-}" = 1 ] && lo=::1
	for i in $(seq 1 100); do nsx "$1" bash -c "exec 3<>/dev/tcp/$lo/8080" 2>/dev/null && return 0; sleep 0.05; done
	die "server in $1 did not start"
}

# traffic [DST_IP] [HTTP_TIMEOUT]: the standard exchange from pod-a.
traffic() {
	local dst=${1:-$POD_B_IP} to=${2:-3s}
	client pod-a ping -dst "$dst" -n 3
	client pod-a get -url "http://$dst:8080/" -timeout "$to"
	client pod-a udp -addr "$dst:9000" -n 3
}

# traffic6 [HTTP_TIMEOUT]: the standard exchange from pod-a to pod-b over IPv6.
traffic6() {
	local to=${1:-3s}
	client pod-a ping -dst "$POD_B6" -n 3
	client pod-a get -url "http://[$POD_B6]:8080/" -timeout "$to"
	client pod-a udp -addr "[$POD_B6]:9000" -n 3
}

# late_capture: one ping flow runs while node-b's eth0 tcpdump starts, seconds after every other
# capture (as when one capture is started by hand after the others): its first pings cross node-b's
# eth0 before that capture runs, and are seen on both sides of it. Then the standard exchange.
late_capture() {
	client pod-a ping -dst "$POD_B_IP" -n 10 -interval 400ms &
	local p=$!
	sleep 1.5
	cap node-b eth0 underlay
	log "late node=node-b iface=eth0"
	wait "$p"
	traffic
}

# nat_error_late: pod-a sends one datagram to the Service address 10.96.0.10:53, which node-a DNATs to
# pod-b's port 9009, where nothing listens; pod-b answers ICMP port-unreachable, which node-a's conntrack
# un-NATs on its way back to pod-a (the quoted destination becomes 10.96.0.10:53 again between node-a's
# tunl0 and pod-a's cali). node-b has to learn pod-b's MAC first (asking every 100 ms), and pod-b
# answers ARP only after 0.3 s, so the error comes back some 0.3 s after the datagram left. Then the
# standard exchange. Afterwards pod-a's cali capture is cut to begin in between (cut_late), as a capture
# started once an incident is under way holds it: the datagram is seen after the DNAT only, its error on
# both sides of it.
nat_error_late() {
	local cb
	cb=$(calname default.pod-b)
	rule node-b sysctl -qw "net.ipv4.neigh.$cb.retrans_time_ms=100" "net.ipv4.neigh.$cb.mcast_solicit=20"
	rule pod-b sysctl -qw net.ipv4.conf.all.arp_ignore=8
	client pod-a udp -addr "$SVC_IP:53" -n 1 -timeout 2s &
	local p=$!
	sleep 0.3
	rule pod-b sysctl -qw net.ipv4.conf.all.arp_ignore=0
	wait "$p" || true
	traffic
}

# cut_late NODE IFACE: drops the frames of NODE-IFACE.pcap before the moment halfway between the first
# datagram to 10.96.0.10:53 there and the first ICMP error after it (editcap -A): what a capture started
# at that moment holds. Starting a tcpdump there after the datagram took up to 1.4 s under load, which
# made the datagram's wait on node-b longer than calipath's default window (1 s).
cut_late() {
	local f="$DIR/$1-$2.pcap" q e at
	q=$(tcpdump -tt -nn -r "$f" 'udp and dst port 53' 2>/dev/null | head -1 | cut -d' ' -f1)
	e=$(tcpdump -tt -nn -r "$f" 'icmp[0] = 3' 2>/dev/null | head -1 | cut -d' ' -f1)
	[ -n "$q" ] && [ -n "$e" ] || die "cut_late: no datagram ($q) or error ($e) in $f"
	at=$(awk -v q="$q" -v e="$e" 'BEGIN { printf "%.9f", (q + e) / 2 }')
	editcap -F nsecpcap -A "$at" "$f" "$f.cut" >/dev/null
	mv "$f.cut" "$f"
	log "late node=$1 iface=$2 cut=editcap -A $at"
}

# cut_midstream: cuts every capture of the scenario (editcap -A) to begin at one moment, halfway
# between the masqueraded conversation's third datagram from pod-a, at pod-a's cali, and its reply
# there: what tcpdumps all started then hold. Each capture begins in the middle of both UDP
# conversations (the node port's, begun first, between two of its datagrams), and pod-a's cali
# with the reply to a request it does not hold ("late" lines: the truth follows from pod-a the
# packets sent before its veth's capture began).
cut_midstream() {
	local ca f q r at
	ca=$(calname default.pod-a)
	f="$DIR/node-a-$ca.pcap"
	q=$(tcpdump -tt -nn -r "$f" "udp and dst host $EXT_IP and dst port 9000" 2>/dev/null | sed -n 3p | cut -d' ' -f1)
	r=$(tcpdump -tt -nn -r "$f" "udp and src host $EXT_IP and src port 9000" 2>/dev/null | sed -n 3p | cut -d' ' -f1)
	[ -n "$q" ] && [ -n "$r" ] || die "cut_midstream: no third datagram ($q) or reply ($r) in $f"
	at=$(awk -v q="$q" -v r="$r" 'BEGIN { printf "%.9f", (q + r) / 2 }')
	for f in "$DIR"/*.pcap "$DIR"/*.pcapng; do
		[ -e "$f" ] || continue
		case $f in
		*.pcapng) editcap -F pcapng -A "$at" "$f" "$f.cut" >/dev/null ;;
		*) editcap -F nsecpcap -A "$at" "$f" "$f.cut" >/dev/null ;;
		esac
		mv "$f.cut" "$f"
	done
	local l
	while read -r l; do
		case $l in
		"point "*)
			local nd ifc
			nd=$(sed -n 's/.* node=\([^ ]*\).*/\1/p' <<<"$l")
			ifc=$(sed -n 's/.* iface=\([^ ]*\).*/\1/p' <<<"$l")
			log "late node=$nd iface=$ifc cut=editcap -A $at"
			;;
		esac
	done < <(cat "$DIR/lab.log")
}

run_scenario() {
	local sc=$1 mode=ipip out=$OUT
	if [ -z "$out" ]; then
		out="$LAB_DIR/scenarios"
		printf '%s\n' "${PENDING[@]}" | grep -qx "$sc" && out="$LAB_DIR/scenarios-pending"
	fi
	DIR="$out/$sc"
	rm -rf "$DIR"
	mkdir -p "$DIR"
	: >"$DIR/traffic.log"
	unset SRV_B NO_DEFAULT_A WITH_EXT TWO_ROUTERS ANY_ONLY VXLAN_UDPCSUM POD_C DUMP_STATE VLAN ANY_SLL1 ROUTER_ANY V6 LATE_CAP V6_QUIET LATE_CALI_A EGW
	case $sc in
	*wireguard*) mode=wireguard ;;
	esac
	case $sc in
	wireguard-bypass | same-node | clusterip-two-nodes) POD_C=1 ;;
	two-routers | two-routers-drop-r2) TWO_ROUTERS=1 ;;
	healthy-vxlan) mode=vxlan ;;
	healthy-vxlan6 | vxlan6-underlay-drop | ndp-gateway-off6) mode=vxlan V6=1 ;;
	pmtu-discovery6 | mtu-blackhole6) mode=vxlan V6=1 V6_QUIET=1 ;;
	state-neigh-failed6) mode=vxlan V6=1 V6_QUIET=1 DUMP_STATE=1 ;;
	healthy-vxlan-offload) mode=vxlan VXLAN_UDPCSUM=1 ;;
	any-bgp-*) mode=bgp ANY_ONLY=1 ;;
	any-*) ANY_ONLY=1 ;;
	healthy-bgp) mode=bgp ;;
	router-any-bgp | router-any-drop) mode=bgp ROUTER_ANY=1 ;;
	router-any-ipip) ROUTER_ANY=1 ;;
	router-three-ifaces | router-three-ifaces-drop) mode=bgp WITH_EXT=1 ;;
	router-three-ifaces-any) mode=bgp WITH_EXT=1 ROUTER_ANY=1 ;;
	vlan-ipip) VLAN=1 ANY_SLL1=1 ;;
	vlan-loss) VLAN=1 ;;
	no-default-route) NO_DEFAULT_A=1 ;;
	snat-external | port-reuse-nat) WITH_EXT=1 ;;
	nodeport-cluster | nodeport-cluster-drop | nodeport-local | nat-midstream | snat-address-midstream) WITH_EXT=1 ;;
	oneway) WITH_EXT=1 NO_R1_ETH0=1 ;; # snat-external with router-1's link to node-a not captured
	egress-gateway) WITH_EXT=1 EGW=1 ;; # pod-a's traffic to outside through the gateway pod egw-1 on node-b
	state-neigh-failed) mode=bgp DUMP_STATE=1 ;;
	state-*) DUMP_STATE=1 ;;
	late-capture) LATE_CAP=1 ;;
	nat-error-late) LATE_CALI_A=1 ;;
	esac
	log "scenario $sc"
	if [ "$mode" = wireguard ]; then
		local nd
		for nd in node-a node-b; do
			"$TMP/wgd" genkey >"$TMP/$nd.keypair"
			sed -n 1p "$TMP/$nd.keypair" >"$TMP/$nd.key"
			sed -n 2p "$TMP/$nd.keypair" >"$TMP/$nd.pub"
		done
	fi
	if [ "${V6:-}" = 1 ]; then
		build6
	else
		build "$mode"
	fi
	local ca cb
	ca=$(calname default.pod-a) cb=$(calname default.pod-b)
	case $sc in
	vxlan6-underlay-drop) # VXLAN over IPv6 blocked between the nodes (a firewall that drops UDP 4789)
		rule router-1 nft add table ip6 lab
		rule router-1 nft add chain ip6 lab labfwd '{ type filter hook forward priority 0; }'
		rule router-1 nft add rule ip6 lab labfwd udp dport 4789 drop
		;;
	mtu-blackhole6 | pmtu-discovery6)
		# IPv6 routers never fragment: router-1 answers each packet too big for its 1400-byte eth0
		# with ICMPv6 Packet Too Big (MTU 1400) to its source, node-b. In mtu-blackhole6 those
		# messages are dropped on their way out of router-1 (a firewall that drops ICMPv6).
		rule router-1 ip link set eth0 mtu 1400
		if [ "$sc" = mtu-blackhole6 ]; then
			rule router-1 nft add table ip6 lab
			rule router-1 nft add chain ip6 lab labout '{ type filter hook output priority 0; }'
			rule router-1 nft add rule ip6 lab labout icmpv6 type packet-too-big drop
		fi
		;;
	underlay-drop-proto4 | any-underlay-drop)
		rule router-1 nft add table ip lab
		rule router-1 nft add chain ip lab labfwd '{ type filter hook forward priority 0; }'
		rule router-1 nft add rule ip lab labfwd ip protocol 4 drop
		;;
	ipip-input-drop | any-ipip-input-drop) rule node-b iptables -A INPUT -p 4 -j DROP ;;
	any-bgp-forward-drop) rule node-b iptables -A FORWARD -i eth0 -d "$POD_B_IP" -j DROP ;;
	any-bgp-underlay-drop)
		rule router-1 nft add table ip lab
		rule router-1 nft add chain ip lab labfwd '{ type filter hook forward priority 0; }'
		rule router-1 nft add rule ip lab labfwd ip daddr "$POD_B_IP" drop
		;;
	df-ping-refused) rule pod-a ip link set eth0 mtu 1500 ;;
	healthy-vxlan-offload)
		# The veth defaults: checksums offloaded, so the kernel leaves placeholders for the device.
		local nd i
		for nd in node-a node-b; do
			for i in eth0 vxlan.calico "$(calname "default.pod-${nd#node-}")"; do
				log "offload node=$nd iface=$i $(nsx "$nd" ethtool -k "$i" |
					awk -F': ' '/^(rx|tx)-checksumming|tx-checksum-ip-generic|^tx-udp_tnl-csum-segmentation/ {gsub(/ \[fixed\]/, "(fixed)", $2); printf "%s=%s ", $1, $2}' | sed 's/[[:space:]]*$//; s/\t//g')"
			done
		done
		;;
	tunl0-cali-drop) rule node-b iptables -A FORWARD -i tunl0 -o "$cb" -j DROP ;;
	# Issue 16: drops the node's own state explains (its `ip` dumps, written at the end of the traffic).
	# Each breaks node-b's way back, so pod-a's packets still show the pair's mode.
	state-blackhole-route) rule node-b ip route replace blackhole "$BLOCK_A" ;;
	state-missing-route) rule node-b ip route del "$BLOCK_A" ;;
	state-neigh-failed) rule node-b ip route replace "$BLOCK_A" via "$DEAD_HOP_IP" dev eth0 proto bird ;;
	# IPv6: node-b routes pod-a's block via fd00:20::99 on eth0 instead of its VXLAN device; nothing
	# answers its neighbour solicitations for that next hop, so pod-b's answers die on node-b.
	state-neigh-failed6) rule node-b ip -6 route replace "$BLOCK_A6" via "$DEAD_HOP6" dev eth0 proto bird ;;
	state-low-mtu) rule node-b ip link set eth0 mtu 1400 ;;
	state-no-default-route) # as no-default-route, but as a rule: node-a cannot route 169.254.1.1
		rule node-a ip route del default
		rule node-a ip route add 192.168.20.0/24 via "$R_A_IP" dev eth0
		;;
	proxy-arp-off) rule node-a sysctl -qw "net.ipv4.conf.$ca.proxy_arp=0" ;;
	# IPv6 off on the host end of pod-a's veth (Calico keeps disable_ipv6 at 0 there): the cali loses
	# its link-local fe80::ecee:eeff:feee:eeee, so pod-a's solicitations for its gateway go unanswered.
	ndp-gateway-off6) rule node-a sysctl -qw "net.ipv6.conf.$ca.disable_ipv6=1" ;;
	no-default-route) log "rule node=node-a cmd=no default route; only ip route add 192.168.20.0/24 via $R_A_IP dev eth0" ;;
	mtu-blackhole | pmtu-discovery)
		rule router-1 ip link set eth0 mtu 1400
		if [ "$sc" = mtu-blackhole ]; then
			rule router-1 nft add table ip lab
			rule router-1 nft add chain ip lab labout '{ type filter hook output priority 0; }'
			rule router-1 nft add rule ip lab labout icmp type destination-unreachable icmp code frag-needed drop
		fi
		;;
	nat-error-late)
		rule node-a iptables -t nat -A PREROUTING -d "$SVC_IP/32" -p udp --dport 53 -j DNAT --to-destination "$POD_B_IP:9009"
		log "nat kind=dnat node=node-a from=$SVC_IP:53 to=$POD_B_IP:9009 proto=udp"
		;;
	clusterip-dnat)
		rule node-a iptables -t nat -A PREROUTING -d "$SVC_IP/32" -p tcp --dport 80 -j DNAT --to-destination "$POD_B_IP:8080"
		rule node-a iptables -t nat -A PREROUTING -d "$SVC_IP/32" -p udp --dport 53 -j DNAT --to-destination "$POD_B_IP:9000"
		log "nat kind=dnat node=node-a from=$SVC_IP:80 to=$POD_B_IP:8080 proto=tcp"
		log "nat kind=dnat node=node-a from=$SVC_IP:53 to=$POD_B_IP:9000 proto=udp"
		;;
	clusterip-two-nodes)
		# kube-proxy's ClusterIP with two endpoints, one on each node: KUBE-SVC-… picks one per
		# connection (kube-proxy uses -m statistic --mode random; nth here, so that the choice is
		# deterministic): the nat table sees only a connection's first packet, so the first rule
		# sends every other connection to pod-b (node-b, through tunl0 and the underlay) and the
		# second rule the rest to pod-c (node-a, cali to cali). pod-b and pod-c serve.
		rule node-a iptables -t nat -A PREROUTING -d "$SVC_IP/32" -p tcp --dport 80 -m statistic --mode nth --every 2 --packet 0 -j DNAT --to-destination "$POD_B_IP:8080"
		rule node-a iptables -t nat -A PREROUTING -d "$SVC_IP/32" -p tcp --dport 80 -j DNAT --to-destination "$POD_C_IP:8080"
		rule node-a iptables -t nat -A PREROUTING -d "$SVC_IP/32" -p udp --dport 53 -m statistic --mode nth --every 2 --packet 0 -j DNAT --to-destination "$POD_B_IP:9000"
		rule node-a iptables -t nat -A PREROUTING -d "$SVC_IP/32" -p udp --dport 53 -j DNAT --to-destination "$POD_C_IP:9000"
		log "nat kind=dnat node=node-a from=$SVC_IP:80 to=$POD_B_IP:8080 proto=tcp"
		log "nat kind=dnat node=node-a from=$SVC_IP:80 to=$POD_C_IP:8080 proto=tcp"
		log "nat kind=dnat node=node-a from=$SVC_IP:53 to=$POD_B_IP:9000 proto=udp"
		log "nat kind=dnat node=node-a from=$SVC_IP:53 to=$POD_C_IP:9000 proto=udp"
		;;
	nodeport-cluster | nodeport-cluster-drop)
		# kube-proxy's NodePort with externalTrafficPolicy=Cluster: node-a marks what arrives for its
		# node ports (KUBE-MARK-MASQ), DNATs it to the only endpoint, pod-b on node-b, and masquerades
		# the marked packets on their way out (KUBE-POSTROUTING): to tunl0's address, since they leave
		# by tunl0. The reply comes back through node-a, which un-NATs both addresses and both ports.
		rule node-a iptables -t nat -A PREROUTING -d "$NODE_A_IP/32" -p tcp --dport 30080 -j MARK --set-xmark 0x4000/0x4000
		rule node-a iptables -t nat -A PREROUTING -d "$NODE_A_IP/32" -p tcp --dport 30080 -j DNAT --to-destination "$POD_B_IP:8080"
		rule node-a iptables -t nat -A PREROUTING -d "$NODE_A_IP/32" -p udp --dport 30053 -j MARK --set-xmark 0x4000/0x4000
		rule node-a iptables -t nat -A PREROUTING -d "$NODE_A_IP/32" -p udp --dport 30053 -j DNAT --to-destination "$POD_B_IP:9000"
		rule node-a iptables -t nat -A POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE --random-fully
		log "nat kind=dnat node=node-a from=$NODE_A_IP:30080 to=$POD_B_IP:8080 proto=tcp"
		log "nat kind=dnat node=node-a from=$NODE_A_IP:30053 to=$POD_B_IP:9000 proto=udp"
		if [ "$sc" = nodeport-cluster-drop ]; then
			# router-1 drops the node port's UDP on its second way through: in IP-in-IP from node-a
			# to node-b (the inner header 20 bytes into the outer one: protocol at bit 232, the
			# destination port at bit 336), after router-1's eth0 saw it come in bare and go back
			# out encapsulated. The HTTP and pod-a's pings cross.
			rule router-1 nft add table ip lab
			rule router-1 nft add chain ip lab labfwd '{ type filter hook forward priority 0; }'
			rule router-1 nft add rule ip lab labfwd ip protocol 4 @nh,232,8 17 @nh,336,16 9000 drop
		fi
		;;
	nodeport-local)
		# kube-proxy's NodePort with externalTrafficPolicy=Local and its only endpoint, pod-a, on node-a
		# itself: node-a DNATs what arrives for its node ports to pod-a and does not masquerade it (no
		# KUBE-MARK-MASQ for a local endpoint), so pod-a sees the client's own address. The reply is
		# un-DNATed on node-a between pod-a's cali and its eth0. Nothing crosses node-a's tunl0.
		rule node-a iptables -t nat -A PREROUTING -d "$NODE_A_IP/32" -p tcp --dport 30080 -j DNAT --to-destination "$POD_A_IP:8080"
		rule node-a iptables -t nat -A PREROUTING -d "$NODE_A_IP/32" -p udp --dport 30053 -j DNAT --to-destination "$POD_A_IP:9000"
		log "nat kind=dnat node=node-a from=$NODE_A_IP:30080 to=$POD_A_IP:8080 proto=tcp policy=Local"
		log "nat kind=dnat node=node-a from=$NODE_A_IP:30053 to=$POD_A_IP:9000 proto=udp policy=Local"
		;;
	hairpin-clusterip)
		# kube-proxy's ClusterIP whose only endpoint is the client itself (hairpin): node-a marks
		# what pod-a sends to the Service (KUBE-SEP's "-s <endpoint> -j KUBE-MARK-MASQ"), DNATs it to
		# pod-a and masquerades the marked packets (KUBE-POSTROUTING): each packet leaves pod-a on its
		# cali and comes back in on the same cali, both addresses rewritten on node-a; the answer
		# takes the same way, un-NATed. Nothing crosses nodes.
		rule node-a iptables -t nat -A PREROUTING -s "$POD_A_IP/32" -d "$SVC_IP/32" -p tcp --dport 80 -j MARK --set-xmark 0x4000/0x4000
		rule node-a iptables -t nat -A PREROUTING -d "$SVC_IP/32" -p tcp --dport 80 -j DNAT --to-destination "$POD_A_IP:8080"
		rule node-a iptables -t nat -A PREROUTING -s "$POD_A_IP/32" -d "$SVC_IP/32" -p udp --dport 53 -j MARK --set-xmark 0x4000/0x4000
		rule node-a iptables -t nat -A PREROUTING -d "$SVC_IP/32" -p udp --dport 53 -j DNAT --to-destination "$POD_A_IP:9000"
		rule node-a iptables -t nat -A POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE --random-fully
		log "nat kind=dnat node=node-a from=$SVC_IP:80 to=$POD_A_IP:8080 proto=tcp"
		log "nat kind=dnat node=node-a from=$SVC_IP:53 to=$POD_A_IP:9000 proto=udp"
		;;
	snat-external | oneway)
		rule node-a iptables -t nat -A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE --random-fully
		;;
	port-reuse-nat)
		# pod-a's connections to ext-1 masqueraded to node-a's address, keeping their source port
		# (no --random-fully: each reuses port 20000 on both sides of the NAT), and a port forward
		# of node-a's port 20000 to pod-a's (a hostPort), through which ext-1 connects back.
		rule node-a iptables -t nat -A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE
		rule node-a iptables -t nat -A PREROUTING -d "$NODE_A_IP/32" -p tcp --dport 20000 -j DNAT --to-destination "$POD_A_IP:20000"
		log "nat kind=dnat node=node-a from=$NODE_A_IP:20000 to=$POD_A_IP:20000 proto=tcp"
		# ext-1 connects from its port 8080 while it holds the TIME_WAIT of pod-a's last connection
		# (its server closed first): TIME_WAIT reuse for outgoing connections, past its 1 s.
		nsx ext-1 sysctl -qw net.ipv4.tcp_tw_reuse=1
		log "sysctl node=ext-1 net.ipv4.tcp_tw_reuse=1"
		;;
	nat-midstream)
		# snat-external's masquerade (pod-a → ext-1) and nodeport-local's UDP node port (ext-1 →
		# 192.168.10.2:30053, DNATed on node-a to pod-a:9000, not masqueraded), both at once; every
		# capture is then cut to begin in the middle of both conversations (cut_midstream).
		rule node-a iptables -t nat -A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE --random-fully
		rule node-a iptables -t nat -A PREROUTING -d "$NODE_A_IP/32" -p udp --dport 30053 -j DNAT --to-destination "$POD_A_IP:9000"
		log "nat kind=dnat node=node-a from=$NODE_A_IP:30053 to=$POD_A_IP:9000 proto=udp policy=Local"
		;;
	snat-address-midstream)
		# nat-midstream with its two conversations NATed to addresses that are not node-a's own (nor
		# any node's): pod-a's conversation to ext-1 SNATed to $SNAT_ADDR (Calico's natOutgoingAddress,
		# a second address on node-a's eth0) and ext-1's to an external IP, $EXT_SVC_IP:53, DNATed on
		# node-a to pod-a:9000 (a Service's externalIPs, the address routed to node-a: here node-a's
		# eth0 answers ARP for it); every capture is then cut to begin in the middle of both
		# conversations (cut_midstream). Both rewrites of a destination away from a non-node address
		# arrive from node-a's eth0: the un-SNAT of pod-a's replies and the DNAT of ext-1's requests.
		rule node-a ip addr add "$SNAT_ADDR/32" dev eth0
		rule node-a ip addr add "$EXT_SVC_IP/32" dev eth0
		rule node-a iptables -t nat -A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -j SNAT --to-source "$SNAT_ADDR" --random-fully
		rule node-a iptables -t nat -A PREROUTING -d "$EXT_SVC_IP/32" -p udp --dport 53 -j DNAT --to-destination "$POD_A_IP:9000"
		log "nat kind=dnat node=node-a from=$EXT_SVC_IP:53 to=$POD_A_IP:9000 proto=udp"
		;;
	egress-gateway)
		# Calico's egress gateway: pod-a's traffic to outside the pool is routed to a gateway pod,
		# egw-1 on node-b, which masquerades it to its own address in its own namespace and sends it
		# out; the replies come back to egw-1, are un-masqueraded there and go back to pod-a.
		local ce
		ce=$(calname default.egw-1)
		# egw-1 forwards (out of the eth0 it came in by: no redirects) and masquerades to its address.
		rule egw-1 sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0
		rule egw-1 iptables -t nat -A POSTROUTING -o eth0 ! -d 10.244.0.0/16 -j MASQUERADE
		# node-a: pod-a's packets to outside the pool leave through tunl0 to node-b (policy routing by
		# source; the pool's own addresses go by the main table).
		rule node-a ip rule add from "$POD_A_IP" lookup "$EGW_TABLE" priority 100
		rule node-a ip route add throw 10.244.0.0/16 table "$EGW_TABLE"
		rule node-a ip route add default via "$NODE_B_IP" dev tunl0 onlink table "$EGW_TABLE"
		# node-b: what comes out of its tunnel from pod-a for outside the pool goes to egw-1, and egw-1's
		# un-masqueraded replies (outside sources) pass the strict reverse-path check of its veth.
		rule node-b ip rule add iif tunl0 from "$POD_A_IP" lookup "$EGW_TABLE" priority 100
		rule node-b ip route add throw 10.244.0.0/16 table "$EGW_TABLE"
		rule node-b ip route add default via "$EGW_IP" dev "$ce" onlink table "$EGW_TABLE"
		rule node-b sysctl -qw "net.ipv4.conf.$ce.rp_filter=0"
		# router-1 routes node-b's block to node-b (as in BGP mode), so egw-1's address is reachable.
		rule router-1 ip route add "$BLOCK_B" via "$NODE_B_IP" dev eth1 proto bird
		log "egress pod=pod-a gateway=egw-1 table=$EGW_TABLE"
		;;
	underlay-loss)
		rule router-1 nft add table ip lab
		rule router-1 nft add chain ip lab labfwd '{ type filter hook forward priority 0; }'
		rule router-1 nft add rule ip lab labfwd numgen random mod 100 '<' 15 drop
		;;
	vlan-loss)
		# Loss on the tagged wire itself, after node-a/eth0's capture and before router-1/eth0's: a
		# veth hands a frame to its peer only if it fits the peer's MTU (+ header and one tag), and
		# drops it silently otherwise (no ICMP). Every tap sees a frame before tc or nft could drop
		# it on ingress, so a smaller MTU on router-1's eth0 (the parent; its eth0.100 keeps 1500)
		# is what loses node-a's big frames on the link. Only node-a → router-1: router-1's vland
		# would refuse to send big frames on its own eth0, so the traffic has no big ones that way.
		rule router-1 ip link set eth0 mtu 1400
		;;
	router-any-drop)
		# router-1 drops pod-a's UDP to pod-b in forward; pings and HTTP pass.
		rule router-1 nft add table ip lab
		rule router-1 nft add chain ip lab labfwd '{ type filter hook forward priority 0; }'
		rule router-1 nft add rule ip lab labfwd ip daddr "$POD_B_IP" udp dport 9000 drop
		;;
	router-three-ifaces-drop)
		# router-1 drops pod-a's UDP to ext-1 in forward (to its third link); pings pass.
		rule router-1 nft add table ip lab
		rule router-1 nft add chain ip lab labfwd '{ type filter hook forward priority 0; }'
		rule router-1 nft add rule ip lab labfwd ip daddr "$EXT_IP" udp dport 9000 drop
		;;
	two-routers-drop-r2)
		rule router-2 nft add table ip lab
		rule router-2 nft add chain ip lab labfwd '{ type filter hook forward priority 0; }'
		rule router-2 nft add rule ip lab labfwd drop
		;;
	wireguard-underlay-loss)
		# Only transport messages (type 4: the UDP payload's first byte), so handshakes complete.
		rule router-1 nft add table ip lab
		rule router-1 nft add chain ip lab labfwd '{ type filter hook forward priority 0; }'
		rule router-1 nft add rule ip lab labfwd udp dport "$WG_PORT" @th,64,8 4 numgen random mod 100 '<' 15 drop
		;;
	wireguard-blocked)
		rule router-1 nft add table ip lab
		rule router-1 nft add chain ip lab labfwd '{ type filter hook forward priority 0; }'
		rule router-1 nft add rule ip lab labfwd udp dport "$WG_PORT" drop
		;;
	wireguard-fragmented | wireguard-mtu-blackhole)
		# WireGuard sends without DF (as the kernel module does), so router-1 fragments the
		# 1500-byte encrypted packets for its 1400-byte eth0, and no ICMP says anything; node-a
		# reassembles them. In wireguard-mtu-blackhole the fragments then die on that link (an
		# egress filter that drops IP fragments, as some firewalls and cloud fabrics do), before
		# router-1's eth0 capture sees them.
		rule router-1 ip link set eth0 mtu 1400
		if [ "$sc" = wireguard-mtu-blackhole ]; then
			rule router-1 nft add table netdev lab
			rule router-1 nft add chain netdev lab labegress '{ type filter hook egress device eth0 priority 0; }'
			rule router-1 nft add rule netdev lab labegress ip frag-off '&' 0x3fff != 0 drop
		fi
		;;
	wireguard-bypass)
		# A rule ahead of Felix's (priority 99) sends pod-c's packets to the main table, whose BGP
		# route leaves through eth0: they cross the underlay in clear; pod-b's answers, routed by
		# node-b's table 1, come back encrypted.
		rule node-a ip rule add from "$POD_C_IP" lookup main priority 90
		;;
	tcp-retransmission)
		rule router-1 nft add table ip lab
		rule router-1 nft add chain ip lab labfwd '{ type filter hook forward priority 0; }'
		rule router-1 nft add rule ip lab labfwd ip protocol 4 meta length '>' 1000 numgen inc mod 1000000 == 0 drop
		;;
	esac
	if [ "${sc#router-three-ifaces}" != "$sc" ]; then
		server pod-b
		server ext-1
	elif [ "${sc#nodeport-cluster}" != "$sc" ]; then
		server pod-b # behind node-a's node ports
	elif [ "$sc" = nodeport-local ]; then
		server pod-a # behind node-a's node ports, on node-a itself
	elif [ "$sc" = nat-midstream ] || [ "$sc" = snat-address-midstream ]; then
		server pod-a # behind node-a's node port (snat-address-midstream: its external IP)
		server ext-1 # pod-a's masqueraded conversation
	elif [ "$sc" = hairpin-clusterip ]; then
		server pod-a # the Service's only endpoint, reached by itself
		server pod-b # pod-a's pings before and after
	elif [ "$sc" = port-reuse-nat ]; then
		server ext-1
		SRV_B=${PIDS[-1]} # stopped before ext-1 connects back from its port 8080
	elif [ -n "${WITH_EXT:-}" ]; then
		server ext-1
	elif [ "$sc" = clusterip-two-nodes ]; then
		server pod-b # the Service's endpoint on node-b
		server pod-c # and its endpoint on node-a, pod-a's own node
	elif [ "$sc" = same-node ]; then
		server pod-c # pod-a's peer on its own node
		server pod-a # node-a's own traffic to its pod
	elif [ "$sc" = port-reuse ]; then
		server pod-b
		SRV_B=${PIDS[-1]} # stopped before pod-b connects back from its port 8080
	else
		server pod-b
	fi
	# A real node's -i any capture always holds the node's own traffic (BGP, kubelet): node-a and
	# node-b exchange UDP over the underlay, unencapsulated, before and after the pods' traffic,
	# so node-b's capture shows it ran even when no pod packet reaches node-b.
	[ "${ANY_ONLY:-}" = 1 ] && server node-b
	# V6_QUIET: the multicast listener reports (MLDv2, a hop-by-hop header) each new address sends,
	# and sends again within a second (its unsolicited report interval), are over before the
	# captures: the truth follows no extension header. healthy-vxlan6 was captured without it.
	[ "${V6_QUIET:-}" = 1 ] && sleep 2
	start_captures
	[ "${ANY_ONLY:-}" = 1 ] && client node-a udp -addr "$NODE_B_IP:9000" -n 2
	case $sc in
	clusterip-dnat)
		client pod-a ping -dst "$POD_B_IP" -n 3
		client pod-a get -url "http://$SVC_IP:80/" -timeout 3s
		client pod-a udp -addr "$SVC_IP:53" -n 3
		;;
	snat-external | oneway) traffic "$EXT_IP" ;;
	egress-gateway)
		# pod-a pings pod-b (not through the gateway) before and after, so that every capture spans
		# the gateway's traffic: DNS-like UDP requests and one short HTTP connection to ext-1.
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		client pod-a udp -addr "$EXT_IP:9000" -n 4
		client pod-a get -url "http://$EXT_IP:8080/" -timeout 3s
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		;;
	nodeport-cluster | nodeport-cluster-drop)
		# ext-1 reaches pod-b through node-a's node ports (HTTP and UDP), and pod-a pings pod-b
		# before and after, so every capture spans the external traffic (in nodeport-cluster-drop
		# the UDP dies in router-1, and the last pings cross every point after it).
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		client ext-1 get -url "http://$NODE_A_IP:30080/" -timeout 3s
		client ext-1 udp -addr "$NODE_A_IP:30053" -n 3
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		;;
	nat-midstream)
		# Two UDP conversations at once, datagrams 50 ms apart: ext-1 to node-a's node port (DNATed to
		# pod-a; 12) and, begun 100 ms later, pod-a to ext-1 (masqueraded on node-a; 8); then pod-a pings pod-b, so that
		# node-b's captures hold something. cut_midstream then cuts every capture (no ping before: the
		# cut would leave it in traffic.log only).
		client ext-1 udp -addr "$NODE_A_IP:30053" -n 12 &
		local cs=$!
		sleep 0.1
		client pod-a udp -addr "$EXT_IP:9000" -n 8
		wait "$cs"
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		;;
	snat-address-midstream)
		# nat-midstream's traffic, ext-1's conversation to the external IP instead of the node port.
		client ext-1 udp -addr "$EXT_SVC_IP:53" -n 12 &
		local cs2=$!
		sleep 0.1
		client pod-a udp -addr "$EXT_IP:9000" -n 8
		wait "$cs2"
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		;;
	nodeport-local)
		# ext-1 reaches pod-a through node-a's node ports (HTTP and UDP), and pod-a pings pod-b before
		# and after, so every capture, node-b's too, spans the external traffic.
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		client ext-1 get -url "http://$NODE_A_IP:30080/" -timeout 3s
		client ext-1 udp -addr "$NODE_A_IP:30053" -n 3
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		;;
	host-to-pod)
		# A host-networked client on node-a (a process in node-a's own namespace: no cali) talks to
		# pod-b: its packets leave by the route to node-b's block, through tunl0, with tunl0's address
		# as source (the kernel's choice for that route); pod-b's answers come back to that address and
		# end on node-a's tunl0. pod-a pings pod-b before and after, so that every capture spans it.
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		client node-a ping -dst "$POD_B_IP" -n 3
		client node-a get -url "http://$POD_B_IP:8080/" -timeout 3s
		client node-a udp -addr "$POD_B_IP:9000" -n 3
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		;;
	hairpin-clusterip)
		# pod-a reaches itself through the Service (HTTP and UDP), and pings pod-b before and after,
		# so that every capture, node-b's too, spans the hairpin traffic.
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		client pod-a get -url "http://$SVC_IP:80/" -timeout 3s
		client pod-a udp -addr "$SVC_IP:53" -n 3
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		;;
	clusterip-two-nodes)
		# pod-a reaches the Service in four HTTP connections and four UDP "connections" (two
		# datagrams each from a socket of its own, so a source port of its own): each endpoint gets
		# two of each, alternately. Pings to pod-b before and after, so that every capture spans them.
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		local i
		for i in 1 2 3 4; do client pod-a get -url "http://$SVC_IP:80/" -timeout 3s; done
		for i in 1 2 3 4; do client pod-a udp -addr "$SVC_IP:53" -n 2; done
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		;;
	router-three-ifaces*)
		# pod-a talks to pod-b (router-1 eth0 ↔ eth1) and to ext-1 (eth0 ↔ eth2), unNATed: the
		# router routes both pod blocks (BGP) and ext-1's default route is router-1. The third link
		# carries traffic first and last (the first and the last pings to both at once), as a busy
		# link does: each capture spans the others'.
		client pod-a ping -dst "$EXT_IP" -n 2 -interval 100ms &
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		wait $!
		traffic
		client pod-a udp -addr "$EXT_IP:9000" -n 3
		client pod-a ping -dst "$EXT_IP" -n 2 -interval 100ms &
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		wait $!
		;;
	port-reuse)
		# TCP port reuse: pod-a connects to pod-b:8080 three times from one source port, 20000, so
		# that each connection has the same 5-tuple. The first ends with both FINs, pod-b's first (it
		# holds the TIME_WAIT, which pod-a's next SYN, with a later ISN and timestamp, reopens); the
		# second and third with pod-a's reset (SO_LINGER 0) after pod-b's FIN. Then pod-b's server
		# stops, pod-a listens on 20000 and pod-b connects back from its port 8080: a fourth
		# connection on the tuple, opened by the other side. Pings to pod-b before and after, so that
		# every capture spans them.
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		client pod-a get -url "http://$POD_B_IP:8080/" -lport 20000 -timeout 3s
		client pod-a get -url "http://$POD_B_IP:8080/" -lport 20000 -rst -timeout 3s
		client pod-a get -url "http://$POD_B_IP:8080/" -lport 20000 -rst -timeout 3s
		stopall "$SRV_B"
		ip netns exec "$(ns pod-a)" "$TMP/labtraffic" serve -http :20000 -udp :9000 -body 4000 2>"$DIR/pod-a-server.log" &
		PIDS+=($!)
		local i
		for i in $(seq 1 100); do nsx pod-a bash -c "exec 3<>/dev/tcp/127.0.0.1/20000" 2>/dev/null && break; sleep 0.05; done
		client pod-b get -url "http://$POD_A_IP:20000/" -lport 8080 -timeout 3s
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		;;
	port-reuse-nat)
		# TCP port reuse through a NAT, both ways: pod-a connects to ext-1:8080 twice from port
		# 20000, masqueraded to node-a's 192.168.10.2:20000; both end with FINs, ext-1's first (it
		# holds the TIME_WAIT). Then ext-1's server stops, pod-a listens on 20000, and ext-1 connects
		# from its port 8080 to node-a's 20000, DNATed to pod-a:20000: the same tuple on both sides
		# of the NAT, opened by the other end (node-a's conntrack entry in TIME_WAIT is reopened by
		# the reply direction's SYN: deleted, and the SYN looked up again as new). Pings to pod-b
		# before and after.
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		client pod-a get -url "http://$EXT_IP:8080/" -lport 20000 -timeout 3s
		client pod-a get -url "http://$EXT_IP:8080/" -lport 20000 -timeout 3s
		stopall "$SRV_B"
		ip netns exec "$(ns pod-a)" "$TMP/labtraffic" serve -http :20000 -udp :9000 -body 4000 2>"$DIR/pod-a-server.log" &
		PIDS+=($!)
		local j
		for j in $(seq 1 100); do nsx pod-a bash -c "exec 3<>/dev/tcp/127.0.0.1/20000" 2>/dev/null && break; sleep 0.05; done
		sleep 1.2 # TIME_WAIT reuse waits a second past the TIME_WAIT's last timestamp
		client ext-1 get -url "http://$NODE_A_IP:20000/" -lport 8080 -timeout 3s
		client pod-a ping -dst "$POD_B_IP" -n 2 -interval 100ms
		;;
	router-any-drop)
		traffic
		# A last ping crosses every point after the lost datagrams: the captures ran past them.
		client pod-a ping -dst "$POD_B_IP" -n 2
		;;
	underlay-loss)
		client pod-a ping -dst "$POD_B_IP" -n 20 -interval 50ms
		client pod-a get -url "http://$POD_B_IP:8080/" -timeout 5s
		client pod-a udp -addr "$POD_B_IP:9000" -n 10
		;;
	pmtu-discovery) traffic "$POD_B_IP" 8s ;;
	df-ping-refused)
		traffic
		# ping -M do -s 1472: 1500 bytes with DF fit pod-a's eth0 but not node-a's tunl0 (1480),
		# so node-a refuses the first and answers ICMP 3/4; pod-a then refuses the others itself
		# (EMSGSIZE), as ping -M do does.
		client pod-a ping -dst "$POD_B_IP" -n 3 -size 1472 -df
		;;
	healthy-wireguard)
		traffic
		# WireGuard's passive keepalive: a node that received data and sent nothing for 10 s
		# (KEEPALIVE_TIMEOUT) sends an empty transport message. node-a received the last UDP answer.
		sleep 12
		;;
	vlan-loss)
		# Pings cross. One UDP flow sends 64, 64, 1400, ... bytes: its 1400-byte datagrams (DF, as
		# Linux sets on UDP; 1448 bytes encapsulated, a 1466-byte tagged frame) die on the
		# node-a ↔ router-1 wire, its small ones cross; a last ping crosses every point after them,
		# so that loss shows as a loss. No HTTP: pod-b's 4000-byte answer would need big frames
		# from router-1, which its vland cannot send on a 1400-byte eth0.
		client pod-a ping -dst "$POD_B_IP" -n 5 -interval 50ms
		client pod-a udp -addr "$POD_B_IP:9000" -n 9 -sizes 64,64,1400 -timeout 300ms
		client pod-a ping -dst "$POD_B_IP" -n 2
		;;
	wireguard-underlay-loss)
		client pod-a ping -dst "$POD_B_IP" -n 20 -interval 50ms
		client pod-a get -url "http://$POD_B_IP:8080/" -timeout 5s
		client pod-a udp -addr "$POD_B_IP:9000" -n 10
		# The drops stop, then two last pings cross every point: the captures run past the last
		# message router-1 dropped, so that loss shows as a loss (a capture that saw nothing after
		# a packet cannot show it was still running).
		rule router-1 nft flush chain ip lab labfwd
		client pod-a ping -dst "$POD_B_IP" -n 2
		;;
	wireguard-blocked)
		traffic
		# wireguard-go retries the handshake every 5 s (REKEY_TIMEOUT) while packets wait for a
		# session: one more initiation leaves node-a's eth0 after the last request died in its
		# device, which shows node-a's captures ran past that loss.
		sleep 5
		;;
	wireguard-bypass)
		traffic
		client pod-c ping -dst "$POD_B_IP" -n 3
		client pod-c get -url "http://$POD_B_IP:8080/" -timeout 3s
		client pod-c udp -addr "$POD_B_IP:9000" -n 3
		;;
	same-node)
		# Two pods on node-a: pod-a talks to pod-c (cali → cali, no tunnel, no underlay), then
		# node-a itself talks to pod-a (as kubelet's probes and host-network pods do).
		traffic "$POD_C_IP"
		client node-a ping -dst "$POD_A_IP" -n 3
		client node-a get -url "http://$POD_A_IP:8080/" -timeout 3s
		client node-a udp -addr "$POD_A_IP:9000" -n 3
		;;
	state-neigh-failed6)
		# As the state-* scenarios below, over IPv6.
		client pod-a ping -dst "$POD_B6" -n 3
		client pod-a udp -addr "[$POD_B6]:9000" -n 3
		sleep 0.2
		client pod-a udp -addr "[$POD_B6]:9009" -n 1 -timeout 300ms
		;;
	state-*)
		# Pings and UDP only: TCP's resent SYN-ACKs into a broken way back are byte-identical.
		client pod-a ping -dst "$POD_B_IP" -n 3
		client pod-a udp -addr "$POD_B_IP:9000" -n 3
		# 1480 bytes with DF fit the pods' and tunl0's MTU, not node-b's eth0 once encapsulated.
		[ "$sc" = state-low-mtu ] && client pod-a ping -dst "$POD_B_IP" -n 3 -size 1452 -df
		# Last, one datagram to a closed port: it reaches every point on its way, after the last
		# answer lost on node-b, so that loss shows as a loss (a capture that saw nothing after a
		# packet cannot show it was still running). pod-b's ICMP port-unreachable dies the same way.
		sleep 0.2
		client pod-a udp -addr "$POD_B_IP:9009" -n 1 -timeout 300ms
		;;
	mtu-blackhole | wireguard-mtu-blackhole)
		traffic
		# The server goes on resending into the black hole after the client gave up. Abort its
		# connection (the RST is small and passes the router) and let the captures see that, so no
		# resend races the end of the captures, where a drop cannot be told from a stopped capture.
		nsx pod-b ss -K -t dst "$POD_A_IP" >/dev/null
		sleep 0.2
		;;
	healthy-vxlan6 | vxlan6-underlay-drop | ndp-gateway-off6) traffic6 ;;
	late-capture) late_capture ;;
	nat-error-late) nat_error_late ;;
	pmtu-discovery6) traffic6 8s ;;
	mtu-blackhole6)
		traffic6
		# As mtu-blackhole: abort pod-b's connection stuck resending into the black hole.
		nsx pod-b ss -K -t dst "[$POD_A6]" >/dev/null
		sleep 0.2
		;;
	*) traffic ;;
	esac
	[ "${ANY_ONLY:-}" = 1 ] && client node-a udp -addr "$NODE_B_IP:9000" -n 2
	[ "${DUMP_STATE:-}" = 1 ] && dump_state
	stop_captures
	cleanup
	[ "$sc" = nat-error-late ] && cut_late node-a "$ca"
	case $sc in nat-midstream | snat-address-midstream) cut_midstream ;; esac
	local t0
	t0=$("$TMP/pcapshift" -first "$DIR"/*.pcap)
	case $sc in
	clock-skew)
		"$TMP/pcapshift" -offset 2.5s -t0 "$t0" "$DIR"/node-b-*.pcap
		log "clock node=node-b offset_ns=2500000000 drift_ppm=0 t0_ns=$t0"
		;;
	clock-drift)
		"$TMP/pcapshift" -offset 2.5s -drift-ppm 200 -t0 "$t0" "$DIR"/node-b-*.pcap
		log "clock node=node-b offset_ns=2500000000 drift_ppm=200 t0_ns=$t0"
		;;
	esac
	if [ "$mode" = wireguard ]; then
		# What each encrypted message carried, from the captures and the keylogs: the truth reads it.
		"$TMP/wgd" decrypt -dir "$DIR" >"$DIR/wg-decrypted.jsonl"
	fi
	"$TMP/truth" -dir "$DIR" >"$DIR/truth.json"
	# The cluster metadata kubectl and calicoctl would print for it (k8s/), for --k8s.
	"$TMP/k8smeta" "$DIR"
	echo "lab: $sc: $(du -sh "$DIR" | cut -f1) in $DIR"
}

main() {
	while getopts "o:" opt; do
		case $opt in o) OUT=$OPTARG ;; *) die "usage: lab.sh [-o OUTDIR] list|all|SCENARIO..." ;; esac
	done
	shift $((OPTIND - 1))
	[ $# -ge 1 ] || die "usage: lab.sh [-o OUTDIR] list|all|SCENARIO..."
	if [ "$1" = list ]; then printf '%s\n' "${SCENARIOS[@]}"; return; fi
	[ "$(id -u)" = 0 ] || die "must run as root"
	local s want=("$@")
	[ "$1" = all ] && want=("${SCENARIOS[@]}")
	for s in "${want[@]}"; do printf '%s\n' "${SCENARIOS[@]}" | grep -qx "$s" || die "unknown scenario $s"; done
	local tool
	for tool in tcpdump dumpcap ip nft iptables bridge go sha1sum; do command -v "$tool" >/dev/null || die "missing $tool"; done
	if printf '%s\n' "${want[@]}" | grep -qx nat-error-late; then
		command -v editcap >/dev/null || die "missing editcap (nat-error-late cuts a capture to begin late)"
	fi
	if printf '%s\n' "${want[@]}" | grep -qx healthy-vxlan-offload; then
		command -v ethtool >/dev/null || die "missing ethtool (healthy-vxlan-offload logs the offload settings)"
	fi
	if [ -n "$OUT" ]; then
		mkdir -p "$OUT"
		OUT=$(cd "$OUT" && pwd)
	fi
	TMP=$(mktemp -d /tmp/calipath-lab.XXXXXX)
	(cd "$REPO" && for tool in ipipd vland labtraffic truth pcapshift k8smeta; do
		CGO_ENABLED=0 go build -o "$TMP/$tool" "./testdata/lab/$tool"
	done)
	if printf '%s\n' "${want[@]}" | grep -q wireguard; then
		# Its own module (golang.zx2c4.com/wireguard, golang.org/x/crypto): the first build downloads them.
		(cd "$LAB_DIR/wgd" && CGO_ENABLED=0 go build -o "$TMP/wgd" .) || die "cannot build testdata/lab/wgd (it needs its modules: cd testdata/lab/wgd && go mod download)"
	fi
	for s in "${want[@]}"; do run_scenario "$s"; done
}

main "$@"
