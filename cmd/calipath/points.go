package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/safetext"
)

func runPoints(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("points", "FILE...", stdout, stderr)
	var in inputFlags
	in.register(fs)
	format := fs.String("format", "text", "output `FORMAT`: text or json")
	paths, err := parseTextJSON(fs, &in, args, stderr)
	if err != nil {
		return err
	}
	c, err := in.load(paths, stderr)
	if err != nil {
		return err
	}
	if *format == "json" {
		err = writePointsJSON(stdout, c)
	} else {
		err = writePointsText(stdout, c)
	}
	if err != nil {
		return err
	}
	if anyProblem(c.Files) || in.bundleSkipped() {
		return errSkipped
	}
	return nil
}

type pointsJSON struct {
	Files   []fileJSON   `json:"files"`
	NodeIPs []nodeIPJSON `json:"node_ips"`
	// Names and CaptureDrops come from bundles and pcapng metadata; absent without any.
	Names        []nameJSON        `json:"names,omitempty"`
	CaptureDrops []captureDropJSON `json:"capture_drops,omitempty"`
}

// nameJSON is a name a pcapng Name Resolution Block gives an address.
type nameJSON struct {
	IP   string `json:"ip"`
	Name string `json:"name"`
	File string `json:"file"`
}

// captureDropJSON is what a capture said it dropped itself.
type captureDropJSON struct {
	File    string `json:"file"`
	Dropped int64  `json:"dropped"`
	From    string `json:"from"`
}

type fileJSON struct {
	File       string      `json:"file"`
	Format     string      `json:"format"`
	Compressed bool        `json:"compressed"`
	Records    int         `json:"records"`
	Skipped    int         `json:"skipped"`
	Damaged    int         `json:"damaged"`
	Problems   []string    `json:"problems"`
	NProblems  int         `json:"problems_total"`
	Points     []pointJSON `json:"points"`
}

type pointJSON struct {
	ID        string   `json:"id"`
	Node      string   `json:"node"`
	Iface     string   `json:"iface"`
	Role      string   `json:"role"`
	Reason    string   `json:"reason"`
	LinkTypes []string `json:"link_types"`
	Records   int      `json:"records"`
	First     string   `json:"first,omitempty"`
	Last      string   `json:"last,omitempty"`
}

type nodeIPJSON struct {
	Node   string `json:"node"`
	IP     string `json:"ip"`
	Reason string `json:"reason"`
}

func pointsDoc(c *decode.Capture) pointsJSON {
	doc := pointsJSON{Files: []fileJSON{}, NodeIPs: []nodeIPJSON{}}
	for _, fi := range c.Files {
		f := fileJSON{File: fi.Path, Format: fi.Format.String(), Compressed: fi.Compressed, Records: fi.Records,
			Skipped: fi.Skipped, Damaged: fi.Damaged, Problems: append([]string{}, fi.Problems...),
			NProblems: fi.NProblems, Points: []pointJSON{}}
		for _, fp := range filePoints(c, fi) {
			pj := pointJSON{ID: fp.point.ID, Node: fp.point.Node, Iface: fp.point.Iface, Role: fp.point.Role.String(),
				Reason: fp.reason, LinkTypes: []string{}, Records: fp.traffic.Frames}
			for _, l := range fp.traffic.LinkTypes {
				pj.LinkTypes = append(pj.LinkTypes, l.String())
			}
			if fp.traffic.Frames > 0 {
				pj.First, pj.Last = fmtTime(fp.traffic.First), fmtTime(fp.traffic.Last)
			}
			f.Points = append(f.Points, pj)
		}
		doc.Files = append(doc.Files, f)
	}
	for _, ip := range c.NodeIPs {
		doc.NodeIPs = append(doc.NodeIPs, nodeIPJSON{Node: ip.Node, IP: ip.IP.String(), Reason: ip.Reason})
	}
	for _, fi := range c.Files {
		for _, n := range fi.Names {
			for _, name := range n.Names {
				doc.Names = append(doc.Names, nameJSON{IP: n.IP.String(), Name: name, File: fi.Path})
			}
		}
	}
	for _, d := range c.Drops {
		doc.CaptureDrops = append(doc.CaptureDrops, captureDropJSON{File: d.Path, Dropped: d.Dropped, From: d.From})
	}
	return doc
}

func writePointsJSON(w io.Writer, c *decode.Capture) error {
	enc := json.NewEncoder(safetext.JSONWriter(w))
	enc.SetIndent("", "  ")
	return enc.Encode(pointsDoc(c))
}

func writePointsText(w io.Writer, c *decode.Capture) error {
	doc := pointsDoc(c)
	var b strings.Builder
	for _, f := range doc.Files {
		comp := ""
		if f.Compressed {
			comp = ", gzip"
		}
		fmt.Fprintf(&b, "%s (%s%s): %d records, %d skipped, %d damaged\n", sanitize(f.File), f.Format, comp,
			f.Records, f.Skipped, f.Damaged)
		if len(f.Points) == 0 {
			fmt.Fprintf(&b, "  no frames\n")
		}
		for _, p := range f.Points {
			fmt.Fprintf(&b, "  %-28s role %-9s %7d frames  %s  %s .. %s\n", sanitize(p.ID), p.Role, p.Records,
				strings.Join(p.LinkTypes, ","), p.First, p.Last)
			fmt.Fprintf(&b, "  %-28s why: %s\n", "", sanitize(p.Reason))
		}
	}
	if len(doc.NodeIPs) == 0 {
		fmt.Fprintf(&b, "node IPs: none found (give them with --node-ip NODE=IP)\n")
	} else {
		fmt.Fprintf(&b, "node IPs:\n")
		for _, ip := range doc.NodeIPs {
			fmt.Fprintf(&b, "  %-12s %-15s %s\n", sanitize(ip.Node), ip.IP, sanitize(ip.Reason))
		}
	}
	if len(doc.Names) > 0 {
		fmt.Fprintf(&b, "names (pcapng name resolution):\n")
		for _, n := range doc.Names {
			fmt.Fprintf(&b, "  %-15s %s  (%s)\n", n.IP, sanitize(n.Name), sanitize(n.File))
		}
	}
	if len(doc.CaptureDrops) > 0 {
		fmt.Fprintf(&b, "capture drops (packets the capture itself did not write):\n")
		for _, d := range doc.CaptureDrops {
			fmt.Fprintf(&b, "  %s: %d dropped (%s)\n", sanitize(d.File), d.Dropped, sanitize(d.From))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
