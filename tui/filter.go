package tui

import (
	"github.com/calipath/calipath/correlate"
	tea "github.com/charmbracelet/bubbletea"
)

// A filter on many flows. Matching a filter to every flow takes time in proportion to the flows
// (about a second for 200,000): above syncFilterFlows flows it runs in a Cmd off the UI loop, the
// filter line says "filtering N flows: …" meanwhile, keys keep working on the lists as they were, and
// every list changes to the new filter at once when its verdicts arrive. A filter applied or cleared
// in the meantime makes them stale: they are dropped.

// syncFilterFlows is the most flows a filter is matched to on the UI loop.
var syncFilterFlows = 20000

// filterMsg carries a filter's verdicts on every flow (matchFlows) and anomaly (matchAnomalies),
// computed off the UI loop.
type filterMsg struct {
	f     *correlate.Filter
	keep  []uint64
	anoms []bool
}

// setFilter filters every list by f (nil: none): at once for few flows, else once the returned
// Cmd has matched f to the flows.
func (m *Model) setFilter(f *correlate.Filter) tea.Cmd {
	m.pending = nil
	if f != nil && len(m.c.res.Flows) > syncFilterFlows {
		m.pending = f
		res := m.c.res
		return func() tea.Msg { return filterMsg{f: f, keep: matchFlows(res, f), anoms: matchAnomalies(res, f)} }
	}
	m.c.filter = f
	m.refilter()
	return nil
}

// filtered puts the filter whose verdicts arrived in force, unless another was set since.
func (m *Model) filtered(msg filterMsg) {
	if msg.f == nil || msg.f != m.pending {
		return
	}
	m.pending = nil
	m.fl.ord.sync(m.c)
	m.fl.ord.filter, m.fl.ord.keep = msg.f, msg.keep
	m.fl.ord.matches++
	m.c.filter = msg.f
	m.refilterWith(msg.anoms)
}

// refilter rebuilds every list for the filter in force.
func (m *Model) refilter() { m.refilterWith(matchAnomalies(m.c.res, m.c.filter)) }

// refilterWith rebuilds every list for the filter in force, given its verdicts on the anomalies.
func (m *Model) refilterWith(anoms []bool) {
	m.fl.refilter(m.c)
	m.anom.show(m.c, anoms)
	m.tl.refilter(m.c)
}
