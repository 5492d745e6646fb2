package report

import (
	"io"
	"reflect"

	"github.com/calipath/calipath/correlate"
)

// writeJSON writes the JSON report of res to w as it goes (jsonEnc): the Result's members in order,
// the filtered lists element by element straight from res (flows and journeys by the typed writers of
// jsonflow.go and jsonjourney.go, the rest by reflection), and, with Options.Journeys and a Result
// that does not list its journeys, every journey rendered as it is written (Result.EachJourney);
// likewise the flows of a Result that streams them (Result.EachFlow; it is made so only for a report
// without a filter). On more than one core such long lists are rendered and formatted in chunks by
// several workers (Result.FlowRanges, Result.JourneyRanges; jsonpar.go) and written in order, a few
// chunks a worker in memory at a time. The bytes are those of encoding/json's indented encoding of
// the filtered Result (safetext.JSON on top), followed by a newline, on any number of cores.
func (p *Printer) writeJSON(w io.Writer, res *correlate.Result) error {
	e := newJSONEnc(w)
	e.par = parOf(&p.opts)
	sel := newJSONSelection(res, p.opts.Filter)
	rv := reflect.ValueOf(res).Elem()
	pl := planOf(rv.Type())
	n := 0
	for i := range pl.fields {
		f := &pl.fields[i]
		fv := rv.Field(f.index)
		switch f.name {
		case "Flows":
			if sel.filter != nil {
				n = jsonList(e, f, n, res.Flows, func(x *correlate.Flow) bool { return sel.keep[x.ID] }, writeFlow)
				continue
			}
			n = e.obj(n, f.key)
			if res.FlowsStreamed() && e.parFlows(res) { // rendered and formatted in chunks on several cores
				continue
			}
			if res.FlowsStreamed() { // rendered one at a time, never all in memory
				m := 0
				res.EachFlow(func(x *correlate.Flow) bool {
					e.member('[', m == 0)
					writeFlow(e, x)
					m++
					return e.err == nil
				})
				e.end('[', ']', m)
				continue
			}
			typedList(e, res.Flows, writeFlow)
			continue
		case "Anomalies":
			if sel.filter != nil {
				n = jsonList(e, f, n, res.Anomalies, func(x *correlate.Anomaly) bool { return sel.filter.MatchAnomaly(res, x) }, writeReflect)
				continue
			}
		case "ICMP":
			if sel.filter != nil {
				n = jsonList(e, f, n, res.ICMP, func(x *correlate.ICMPError) bool { return x.Flow == "" || sel.keep[x.Flow] }, writeReflect)
				continue
			}
		case "Journeys":
			if res.Journeys == nil && p.opts.Journeys {
				var done bool
				if n, done = sel.parJourneys(e, f, n); !done {
					n = sel.streamJourneys(e, f, n)
				}
				continue
			}
			n = sel.journeys(e, f, n) // omitted when empty, as omitempty does
			continue
		}
		n = e.field(f, fv, n)
	}
	e.end('{', '}', n)
	e.buf = append(e.buf, '\n')
	e.flush(true)
	return e.err
}

// jsonSelection is what a filter keeps of a Result for JSON: the flows it matches, by ID.
type jsonSelection struct {
	res    *correlate.Result
	filter Filter
	keep   map[string]bool // IDs of the flows the filter matches (nil without a filter)
}

func newJSONSelection(res *correlate.Result, f Filter) *jsonSelection {
	s := &jsonSelection{res: res, filter: f}
	if f != nil {
		s.keep = map[string]bool{}
		for i := range res.Flows {
			if f.MatchFlow(res, &res.Flows[i]) {
				s.keep[res.Flows[i].ID] = true
			}
		}
	}
	return s
}

// matchJourney reports whether the filter keeps journey j: its flow is kept and it matches.
func (s *jsonSelection) matchJourney(j *correlate.Journey) bool {
	return s.filter == nil || (s.keep[j.Flow] && s.filter.MatchJourney(s.res, j))
}

// writeReflect writes x by reflection (jsonEnc.value).
func writeReflect[T any](e *jsonEnc, x *T) { e.value(reflect.ValueOf(x).Elem()) }

// jsonList writes member f, the elements of list keep matches, as a list (empty, never null: a
// filtered list is never nil), after the n members written before; it returns the members written.
func jsonList[T any](e *jsonEnc, f *planField, n int, list []T, keep func(*T) bool, write func(*jsonEnc, *T)) int {
	e.member('{', n == 0)
	e.key(f.key)
	m := 0
	for i := range list {
		if keep(&list[i]) {
			e.member('[', m == 0)
			write(e, &list[i])
			m++
		}
	}
	e.end('[', ']', m)
	return n + 1
}

// journeys writes member f, the Result's journeys the filter matches, when there is one (the member
// is omitted when empty).
func (s *jsonSelection) journeys(e *jsonEnc, f *planField, n int) int {
	w := lazyList{e: e, f: f, n: n}
	for i := range s.res.Journeys {
		if s.matchJourney(&s.res.Journeys[i]) {
			w.add(&s.res.Journeys[i])
		}
	}
	return w.close()
}

// streamJourneys writes member f, every journey the filter matches, each rendered when it is
// written, when there is one (the member is omitted when empty).
func (s *jsonSelection) streamJourneys(e *jsonEnc, f *planField, n int) int {
	w := lazyList{e: e, f: f, n: n}
	s.res.EachJourney(func(j *correlate.Journey) bool {
		if s.matchJourney(j) {
			w.add(j)
		}
		return e.err == nil
	})
	return w.close()
}

// lazyList writes an omitempty list member whose length is not known ahead: the member's key goes out
// with its first element, and nothing when there is none.
type lazyList struct {
	e *jsonEnc
	f *planField
	n int // members of the enclosing object written before
	m int // elements written
}

func (l *lazyList) add(j *correlate.Journey) {
	if l.m == 0 {
		l.e.member('{', l.n == 0)
		l.e.key(l.f.key)
	}
	l.e.member('[', l.m == 0)
	writeJourney(l.e, j)
	l.m++
}

// close ends the list, if it was started, and returns the members of the enclosing object written.
func (l *lazyList) close() int {
	if l.m == 0 {
		return l.n
	}
	l.e.end('[', ']', l.m)
	return l.n + 1
}
