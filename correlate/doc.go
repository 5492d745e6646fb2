// Package correlate follows every packet across the capture points of a Calico datapath.
//
// Correlate takes the Observations of all inputs (decode.Capture) and produces one deterministic
// Result: the datapath mode, each node's clock offset, every packet's journey through the points,
// per-segment loss and latency, flows, ARP exchanges, ICMP errors and anomalies. It does no I/O; the
// report and the TUI only present its Result.
//
// The work runs in three passes over the compact Observations:
//
//  1. clocks: packets that cross between nodes in both directions bound each node's offset
//     (NTP-style, from minimum one-way delays) and, over long captures, its drift; a node that
//     packets cross in one direction only is bounded on one side and set at that limit;
//  2. matching: Observations are merged in corrected time order and joined into journeys by exact
//     fingerprint within a time window, falling back to the NAT-tolerant fingerprint within a node
//     (recording the rewrite); the open-journey maps hold only the window, not the capture;
//  3. analysis: each flow direction's expected path (pod-veth → tunnel → underlay → … → pod-veth;
//     routers ordered by the TTL, one path per pod pair and direction) decides every journey's
//     status (delivered, lost with the segment, or not captured), the segment statistics and the
//     anomalies.
//
// docs/correlation.md draws the stages (world, clocks, journeys, flows, paths, placement, findings,
// output), what each reads and produces, and where each Result field comes from.
package correlate
