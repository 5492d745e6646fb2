// Package report renders a correlate.Result for people and programs: a text report for the
// terminal, Markdown for tickets and post-mortems, one self-contained HTML file with SVG path and
// ladder diagrams, or the Result as JSON.
//
// The package computes nothing of its own: it selects (a flow filter), orders (worst flows and most
// severe anomalies first) and lays out what correlate concluded. It is modelled on hubble's printer:
// one Printer, configured with functional options, writing to an io.Writer.
//
// Example:
//
//	res := correlate.Correlate(capture, correlate.Options{Journeys: true})
//	p := report.New(os.Stdout, report.WithFormat(report.HTML))
//	if err := p.Print(res); err != nil { ... }
package report
