package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/calipath/calipath/correlate"
	"github.com/calipath/calipath/decode"
	"github.com/calipath/calipath/internal/units"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Options configure the TUI: how to load and correlate the captures, and the terminal to use.
type Options struct {
	Decode    decode.Options
	Points    decode.PointConfig
	Correlate correlate.Options
	In        io.Reader // keyboard; nil means stdin
	Out       io.Writer // terminal; nil means stdout
	// Getenv reads the environment (NO_COLOR); nil means os.Getenv.
	Getenv func(string) string
	// Log receives the load's timings when the overview first shows (loadTimes); nil means
	// slog.Default() (calipath tui --log-file).
	Log *slog.Logger

	ctx context.Context // Run's: ending it stops loading and correlating
}

// screen is one of the TUI's screens.
type screen int

const (
	screenLoading screen = iota
	screenOverview
	screenFlows
	screenTimeline
	screenPacket
	screenARP
	screenAnomalies
)

var screenNames = [...]string{"Loading", "Overview", "Flows", "Timeline", "Packet", "ARP", "Anomalies"}

// String names the screen.
func (s screen) String() string {
	if s >= 0 && int(s) < len(screenNames) {
		return screenNames[s]
	}
	return fmt.Sprintf("screen(%d)", int(s))
}

// Messages.
type (
	// tickMsg refreshes the loading screen's progress, while the files are read (the screen says
	// "correlating…" after, and stays as it is until the overview shows: no more ticks).
	tickMsg struct{}
	// loadedMsg carries the correlated Result, and the flow list's first order and widths when they
	// were computed while loading (firstOrder; nil when not).
	loadedMsg struct {
		res    *correlate.Result
		first  *firstOrder
		times  loadTimes
		frames map[string]*decode.FrameIndex // the files' frame indexes (frameIndexes)
	}
	// flowsMsg carries the loaded Result with its flows listed (listFlowsCmd), from, whose flows were
	// streamed and which the overview showed meanwhile, and the flow list's first order and widths.
	flowsMsg struct {
		from, res *correlate.Result
		first     *firstOrder
		times     loadTimes
	}
	// unfitMsg says the input gives nothing to show (correlate.Check): the TUI quits and Run returns it.
	unfitMsg struct{ err error }

	// The messages a screen returns from its update for the root to act on at once.

	// openFlowMsg asks for a flow's timeline, with the cursor on the first row holding one of seek.
	openFlowMsg struct {
		flowID string
		seek   []correlate.Evidence
	}
	// openJourneyMsg asks for a journey's packet screen.
	openJourneyMsg struct{ j *correlate.Journey }
	// showMsg asks for a screen.
	showMsg screen
	// statusMsg is a one-key notice.
	statusMsg string
)

// fileProgress is the loading state of one input.
type fileProgress struct {
	bytes, size     int64
	frames, skipped int
	done            bool
}

// loadState is shared between the loading goroutine and the UI.
type loadState struct {
	mu          sync.Mutex
	files       []fileProgress
	correlating bool
}

func (l *loadState) snapshot() ([]fileProgress, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]fileProgress(nil), l.files...), l.correlating
}

// common is what every screen reads: the Result, the styles, the keys and the filter.
type common struct {
	res    *correlate.Result
	st     styles
	km     KeyMap
	filter *correlate.Filter
	// readFrame reads one frame for the packet screen (decode.ReadFrameIndexed with the file's index
	// in frames).
	readFrame func(path string, frame uint32) (decode.Record, decode.Packet, error)
	// frames is the loaded files' frame indexes by path (decode.FileInfo.FrameIndex): a frame is read
	// from the mark before it rather than from the start of its file. Set once, as the Result comes in
	// (loadedMsg), before any frame is read; nil for a Model made with a Result.
	frames    map[string]*decode.FrameIndex
	vxlanPort uint16
	// addrsOnly turns off the Kubernetes names cluster metadata gives addresses (the Names key).
	addrsOnly bool
	// bg is set in the copy a step of the flow list's chain off the UI loop works with: its yields
	// wait for it (gate). nil elsewhere.
	bg *gate
}

// Model is the root of the TUI. It owns the layout, the focus and message routing; each screen is a
// child with its own state. Model implements tea.Model.
type Model struct {
	c      *common
	paths  []string
	opts   Options
	load   *loadState
	width  int
	height int
	screen screen

	progress    []fileProgress
	correlating bool
	unfit       error // why the input gave nothing to show (the TUI quit)
	// flowsDue is how many flows the Result shown has that are still being listed (listFlowsCmd): the
	// screens that show flows say so until they are in. 0 once they are, or when they came with it.
	flowsDue int
	// queued is the input (keys, the mouse wheel) that waits for the flows being listed, in order: a
	// key that acts on them (waitsForFlows), and every key or wheel turn after it. Once the flows are
	// in it is applied as if pressed then (replay), each key after the timeline or packet that the
	// keys before it opened has rendered.
	queued []tea.Msg

	help     help.Model
	showHelp bool

	filterInput textinput.Model
	filtering   bool
	filterErr   string
	pending     *correlate.Filter // a filter being matched to the flows off the UI loop (setFilter)
	status      string            // a one-key notice (shown where the filter line goes, cleared by the next key)

	ov   overview
	fl   flowList
	tl   timeline
	pk   packetView
	arp  arpView
	anom anomalyList

	// fileLines keeps the loading screen's line of each file (loadingView); nil for a Model made with
	// a Result.
	fileLines *fileLines
}

// New returns a Model that loads and correlates paths when started.
func New(paths []string, opts Options) Model {
	m := newModel(opts)
	m.paths = paths
	m.load = &loadState{files: make([]fileProgress, len(paths))}
	m.fileLines = &fileLines{}
	m.screen = screenLoading
	return m
}

// NewWithResult returns a Model showing an already correlated Result.
func NewWithResult(res *correlate.Result, opts Options) Model {
	m := newModel(opts)
	if cmd := m.setResult(res, nil); cmd != nil { // not on a UI loop yet: lay the timeline out now
		if msg, ok := cmd().(journeysMsg); ok {
			m.tl.finish(m.c, msg)
		}
	}
	return m
}

func newModel(opts Options) Model {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	out := opts.Out
	if out == nil {
		out = os.Stdout
	}
	r := lipgloss.NewRenderer(out)
	if noColor(getenv) {
		r.SetColorProfile(asciiProfile)
	}
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "host 10.0.0.1 and port 80, proto tcp, node NAME, point ID, kind loss; and/or/not"
	ti.CharLimit = 512
	vx := opts.Decode.VXLANPort
	c := &common{st: newStyles(r), km: DefaultKeyMap(), vxlanPort: vx}
	c.readFrame = func(path string, frame uint32) (decode.Record, decode.Packet, error) {
		return decode.ReadFrameIndexed(path, frame, c.frames[path], decode.Options{VXLANPort: vx})
	}
	h := help.New()
	h.Styles.ShortKey = c.st.header
	h.Styles.FullKey = c.st.header
	return Model{c: c, opts: opts, width: 80, height: 24, help: h, filterInput: ti, screen: screenOverview,
		ov: overview{cache: &overviewCache{}}}
}

// setResult shows res; the returned Cmd renders the first flow's timeline. The overview shows first:
// the flow list is built when it is shown (flowList.build), its first order and widths computed
// while loading (prep, when not nil) or sorted by then off the UI loop (sortNext), and the timeline
// opens on the list's first flow, found without sorting.
func (m *Model) setResult(res *correlate.Result, prep *firstOrder) tea.Cmd {
	m.c.res = res
	m.c.km.Names.SetEnabled(len(res.Names) > 0)
	m.anom = anomalyList{}
	m.anom.reset(m.c)
	m.arp.reset(m.c)
	m.screen = screenOverview
	return m.setFlows(res, prep)
}

// setFlows shows res's flows: a new flow list, and the timeline of its first flow (the returned Cmd
// renders it). For a Result whose flows were listed after its overview showed (flowsMsg), res is the
// Result shown with its flows, and the screen, the anomaly and ARP lists stay as they are.
func (m *Model) setFlows(res *correlate.Result, prep *firstOrder) tea.Cmd {
	m.c.res = res
	m.fl = newFlowList()
	m.fl.ord.adopt(m.c, prep)
	if len(res.Flows) == 0 {
		return nil
	}
	first := worstFlow(res.Flows)
	if m.c.filter != nil { // the list's first flow is the first the filter keeps
		m.fl.reset(m.c)
		first = m.fl.selectedFlow()
	}
	return m.tl.open(m.c, res.Flows[first].ID, nil)
}

// Screen reports the screen shown.
func (m Model) Screen() screen { return m.screen }

// Init starts loading when the Model was made with New.
func (m Model) Init() tea.Cmd {
	if m.load == nil {
		return nil
	}
	return tea.Batch(loadCmd(m.paths, m.opts, m.load), tickCmd())
}

func tickCmd() tea.Cmd {
	return tea.Tick(100*time.Millisecond, func(time.Time) tea.Msg { return tickMsg{} })
}

// loadCmd loads and correlates the captures off the UI loop.
func loadCmd(paths []string, opts Options, ls *loadState) tea.Cmd {
	return func() tea.Msg {
		start := time.Now()
		c := decode.LoadProgress(paths, opts.Decode, opts.Points, func(file int, bytes, size int64, frames, skipped int) {
			ls.mu.Lock()
			if file >= 0 && file < len(ls.files) {
				ls.files[file] = fileProgress{bytes: bytes, size: size, frames: frames, skipped: skipped}
			}
			ls.mu.Unlock()
		})
		read := time.Now()
		frames := frameIndexes(c) // before correlation, which may drop what it no longer needs of c
		ls.mu.Lock()
		for i := range ls.files {
			ls.files[i].done = true
		}
		ls.correlating = true
		ls.mu.Unlock()
		if err := correlate.Check(c, opts.Correlate); err != nil {
			return unfitMsg{err}
		}
		ctx := opts.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		if ctx.Err() != nil {
			return nil // the program is stopping
		}
		res, err := correlate.CorrelateContext(ctx, c, correlateOptions(c, opts))
		if err != nil {
			return nil
		}
		correlated := time.Now()
		if res.FlowsStreamed() && res.Summary.Flows <= syncListFlows {
			collect() // the collection correlation left to its caller (CollectLater): the flows take its memory
			res = res.WithFlows()
		}
		var first *firstOrder
		if !res.FlowsStreamed() {
			first = prepareFirst(res)
		}
		return loadedMsg{res: res, first: first, frames: frames, times: loadTimes{start: start,
			read: read.Sub(start), correlate: correlated.Sub(read), first: time.Since(correlated)}}
	}
}

// correlateOptions returns the options loadCmd correlates c with: opts.Correlate, with what only
// comes before the overview left to after it.
func correlateOptions(c *decode.Capture, opts Options) correlate.Options {
	copts := opts.Correlate
	copts.Acks = decode.AckReader(c, opts.Decode) // the ACKs that clear a segment, read again
	// The overview reads the Summary, not the flows: they are listed once it shows (listFlowsCmd),
	// when correlation can leave them (FlowsStreamed).
	copts.StreamFlows = true
	// Returning the memory correlation's phases free to the system (Lean) costs a page fault for each
	// page its later phases take again, before the overview; the peak is the same (it comes while
	// matching).
	copts.KeepFreed = true
	// Its collection after placement, there for the flows listed next, comes when they are listed:
	// before the overview only when that is when they are (loadCmd), else after it (listFlowsCmd).
	copts.CollectLater = true
	return copts
}

// collect is runtime.GC: what correlation dropped, collected before the flows are listed (CollectLater);
// a test counts its calls.
var collect = runtime.GC

// frameIndexes returns the frame indexes of c's files by path (those that have one).
func frameIndexes(c *decode.Capture) map[string]*decode.FrameIndex {
	out := map[string]*decode.FrameIndex{}
	for _, f := range c.Files {
		if f != nil && f.FrameIndex != nil {
			out[f.Path] = f.FrameIndex
		}
	}
	return out
}

// syncListFlows is the most flows listed before the overview shows: more are listed after it
// (listFlowsCmd), in the time they take (about 0.4 s for 200,000 flows) the overview shows
// with the rest of the Result.
var syncListFlows = 20000

// listFlowsCmd lists the flows of res, whose flows were streamed, off the UI loop while its overview
// shows, with the flow list's first order and widths (prepareFirst), as loadCmd computes them for a
// Result that lists its flows.
func listFlowsCmd(res *correlate.Result, t loadTimes) tea.Cmd {
	return func() tea.Msg {
		start := time.Now()
		// What correlation dropped once it built the Result (placement's working memory among it: its
		// collection was left to this one, CollectLater) is collected first, so that the flows take
		// its memory rather than grow the heap; the flow list's chain then has nothing of it
		// left to collect (flowOrders.collect).
		collect()
		collected := time.Now()
		full := res.WithFlows()
		listed := time.Now()
		first := prepareFirst(full)
		t.collect, t.list, t.first = collected.Sub(start), listed.Sub(collected), time.Since(listed)
		return flowsMsg{from: res, res: full, first: first, times: t}
	}
}

// Update implements tea.Model.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	nm, cmd := m.update(msg)
	if m, ok := nm.(Model); ok && m.screen == screenFlows && m.c.res != nil && m.flowsDue == 0 {
		// the flow list shown is built for the Result
		return m, tea.Batch(cmd, m.fl.build(m.c))
	}
	return nm, cmd
}

func (m Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = msg.Width
		return m, nil
	case tickMsg:
		if m.screen != screenLoading {
			return m, nil
		}
		m.progress, m.correlating = m.load.snapshot()
		if m.correlating { // every file read: nothing on the loading screen changes until the Result comes
			return m, nil
		}
		return m, tickCmd()
	case loadedMsg:
		msg.times.log(m.opts.Log, msg.res)
		m.c.frames = msg.frames
		cmd := m.setResult(msg.res, msg.first)
		if msg.res.FlowsStreamed() && msg.res.Summary.Flows > 0 { // the overview shows; the flows are listed meanwhile
			m.flowsDue = msg.res.Summary.Flows
			return m, listFlowsCmd(msg.res, msg.times)
		}
		next := m.fl.sortNext(m.c, 0)
		m.fl.ord.collect = true
		return m, tea.Batch(cmd, next)
	case flowsMsg:
		if msg.from != m.c.res || m.flowsDue == 0 {
			return m, nil
		}
		if strings.HasPrefix(m.status, m.flowsDueLine()) { // a key's notice that they are still loading
			m.status = ""
		}
		m.flowsDue = 0
		msg.times.logFlows(m.opts.Log, msg.res)
		cmd := m.setFlows(msg.res, msg.first)
		next := m.fl.sortNext(m.c, 0) // no collection first: listFlowsCmd made it
		m, keys := m.replay()
		return m, tea.Batch(cmd, next, keys)
	case ordersMsg:
		return m, m.fl.merge(m.c, msg)
	case collectedMsg:
		return m, m.fl.collected(m.c, msg)
	case unfitMsg:
		m.unfit = msg.err
		return m, tea.Quit
	case journeysMsg:
		m.tl.finish(m.c, msg)
		return m.replay()
	case filterMsg:
		m.filtered(msg)
		return m, nil
	case framesMsg:
		m.pk.framesLoaded(msg)
		return m.replay()
	case tea.MouseMsg:
		return m.mouse(msg)
	case tea.KeyMsg:
		return m.keys(msg)
	}
	if m.filtering {
		var cmd tea.Cmd
		m.filterInput, cmd = m.filterInput.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m Model) mouse(msg tea.MouseMsg) (tea.Model, tea.Cmd) {
	if msg.Action != tea.MouseActionPress || m.c.res == nil {
		return m, nil
	}
	if len(m.queued) > 0 || (m.flowsDue > 0 && showsFlows(m.screen)) { // after the keys that wait, or on no rows yet
		m.queue(msg)
		return m, nil
	}
	var k key.Binding
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		k = m.c.km.Up
	case tea.MouseButtonWheelDown:
		k = m.c.km.Down
	default:
		return m, nil
	}
	kmsg := keyMsgOf(k)
	for i := 0; i < 3; i++ {
		var cmd tea.Cmd
		m, cmd = m.screenKey(kmsg)
		_ = cmd
	}
	return m, nil
}

var specialKeys = map[string]tea.KeyType{"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft,
	"right": tea.KeyRight, "enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
	"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd, "ctrl+c": tea.KeyCtrlC,
	"ctrl+x": tea.KeyCtrlX, "ctrl+b": tea.KeyCtrlB, "ctrl+f": tea.KeyCtrlF, "backspace": tea.KeyBackspace}

// keyMsgOf returns the key message of a binding's first key.
func keyMsgOf(b key.Binding) tea.KeyMsg {
	k := b.Keys()[0]
	if t, ok := specialKeys[k]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// keys handles a key message. Keys typed faster than the terminal is read arrive as one message
// (bubbletea gives "jj" as one KeyRunes of two runes): outside the filter bar each rune is a key of its
// own, so every key counts. A paste, and runes typed into the filter bar, stay whole.
func (m Model) keys(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	if msg.Type != tea.KeyRunes || len(msg.Runes) < 2 || msg.Paste || m.filtering {
		return m.key(msg)
	}
	var cmds []tea.Cmd
	for i, r := range msg.Runes {
		if m.filtering { // a key opened the filter bar: the rest is its text
			rest := msg
			rest.Runes = msg.Runes[i:]
			nm, cmd := m.key(rest)
			return nm, tea.Batch(append(cmds, cmd)...)
		}
		one := msg
		one.Runes = []rune{r}
		nm, cmd := m.key(one)
		m = nm.(Model)
		cmds = append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
}

func (m Model) key(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	km := m.c.km
	m.status = ""
	if msg.String() == "ctrl+c" {
		return m, tea.Quit
	}
	if len(m.queued) > 0 { // after keys that wait for the flows: in its turn (q too: it may be the filter's text)
		m.queue(msg)
		return m, nil
	}
	if m.filtering {
		return m.filterKey(msg)
	}
	if m.showHelp {
		if key.Matches(msg, km.Quit) && msg.String() == "q" {
			return m, tea.Quit
		}
		m.showHelp = false
		return m, nil
	}
	if m.screen == screenFlows && m.c.res != nil && m.fl.takesAll() { // the sort menu reads the next key
		return m.screenKey(msg)
	}
	if key.Matches(msg, km.Quit) {
		return m, tea.Quit
	}
	if m.screen == screenLoading || m.c.res == nil {
		return m, nil
	}
	if m.flowsDue > 0 && m.waitsForFlows(msg) {
		m.queue(msg)
		return m, nil
	}
	switch {
	case key.Matches(msg, km.Help):
		m.showHelp = true
		return m, nil
	case key.Matches(msg, km.Filter):
		m.filtering = true
		m.filterErr = ""
		return m, m.filterInput.Focus()
	case key.Matches(msg, km.NextTab):
		m.screen = nextScreen(m.screen, 1)
		return m, m.enterScreen()
	case key.Matches(msg, km.PrevTab):
		m.screen = nextScreen(m.screen, -1)
		return m, m.enterScreen()
	case key.Matches(msg, km.Overview):
		m.screen = screenOverview
		return m, nil
	case key.Matches(msg, km.Flows):
		m.screen = screenFlows
		return m, nil
	case key.Matches(msg, km.Timeline):
		m.screen = screenTimeline
		return m, nil
	case key.Matches(msg, km.Packet):
		m.screen = screenPacket
		return m, m.enterScreen()
	case key.Matches(msg, km.ARP):
		m.screen = screenARP
		return m, nil
	case key.Matches(msg, km.Anomalies):
		m.screen = screenAnomalies
		return m, nil
	case key.Matches(msg, km.Names):
		m.c.addrsOnly = !m.c.addrsOnly
		m.status = "showing Kubernetes names"
		if m.c.addrsOnly {
			m.status = "showing addresses"
		}
		// the orders and widths for the names as now shown; first the order asked for or shown
		return m, tea.Batch(m.fl.sortNext(m.c, 0), m.fl.renamed(m.c))
	}
	return m.screenKey(msg)
}

// waitsForFlows reports whether key msg, pressed while the flows are listed (outside the filter bar
// and the help), acts on them: the filter and the names key, the packet screen (it opens the
// timeline's packet), opening a flow from the anomalies, and every key of the flows, timeline and
// packet screens but those that switch screens, quit or show the help. The other keys do the same
// before the flows are in as after, and act at once.
func (m Model) waitsForFlows(msg tea.KeyMsg) bool {
	km := m.c.km
	switch {
	case key.Matches(msg, km.Filter, km.Names, km.Packet):
		return true
	case key.Matches(msg, km.NextTab):
		return nextScreen(m.screen, 1) == screenPacket
	case key.Matches(msg, km.PrevTab):
		return nextScreen(m.screen, -1) == screenPacket
	case key.Matches(msg, km.Quit, km.Help, km.Overview, km.Flows, km.Timeline, km.ARP, km.Anomalies):
		return false
	}
	return showsFlows(m.screen) || (m.screen == screenAnomalies && key.Matches(msg, km.Enter))
}

// queue keeps msg (a key or the mouse wheel) for when the flows are in, and says how many wait.
func (m *Model) queue(msg tea.Msg) {
	m.queued = append(m.queued, msg)
	what := "the flows"
	if m.flowsDue == 0 {
		what = "the screen" // the flows are in; a timeline or packet the keys before opened is rendering
	}
	keys := "1 key waits"
	if n := len(m.queued); n > 1 {
		keys = fmt.Sprintf("%d keys wait", n)
	}
	m.status = keys + " for " + what
	if m.flowsDue > 0 {
		m.status = m.flowsDueLine() + ": " + m.status
	}
}

// replay applies the input queued while the flows were listed, in order, once they are in: as if
// pressed now. It stops at a key while the timeline or the packet screen renders what a key before
// it opened (the rest waits for journeysMsg or framesMsg), as keys pressed once it shows would.
func (m Model) replay() (Model, tea.Cmd) {
	if m.flowsDue > 0 {
		return m, nil
	}
	q := m.queued
	m.queued = nil // what is replayed is not queued again
	var cmds []tea.Cmd
	for i, msg := range q {
		if m.tl.loading || m.pk.loading {
			m.queued = q[i:]
			break
		}
		var nm tea.Model
		var cmd tea.Cmd
		switch msg := msg.(type) {
		case tea.KeyMsg:
			nm, cmd = m.key(msg)
		case tea.MouseMsg:
			nm, cmd = m.mouse(msg)
		}
		m = nm.(Model)
		cmds = append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
}

// filterKey handles a key while the filter bar has the focus: enter applies the filter, esc goes back
// to the one in force, anything else edits the text.
func (m Model) filterKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch msg.Type {
	case tea.KeyEnter:
		cmd := m.applyFilter(m.filterInput.Value())
		if m.filterErr == "" {
			m.filtering = false
			m.filterInput.Blur()
		}
		return m, cmd
	case tea.KeyEsc: // back to the filter in force: its text, no error
		m.filtering = false
		m.filterInput.Blur()
		m.filterErr = ""
		m.filterInput.SetValue(m.c.filter.String())
		return m, nil
	}
	if msg.Type == tea.KeyRunes {
		// A control character or bidirectional override typed or pasted is taken as its visible
		// escape: the filter bar shows what is there.
		msg.Runes = []rune(clean(string(msg.Runes)))
	}
	var cmd tea.Cmd
	m.filterInput, cmd = m.filterInput.Update(msg)
	return m, cmd
}

func nextScreen(s screen, d int) screen {
	n := int(screenAnomalies)
	i := (int(s)-1+d+n)%n + 1
	return screen(i)
}

// enterScreen starts the work a screen needs when it is shown.
func (m *Model) enterScreen() tea.Cmd {
	if m.screen == screenPacket {
		// The timeline's selection, unless it is the journey already shown (keeping its hop and scroll).
		if j, ok := m.tl.selectedJourney(); ok && (!m.pk.has || j.ID != m.pk.j.ID || j.Flow != m.pk.j.Flow) {
			return m.pk.open(m.c, j)
		}
	}
	return nil
}

// screenKey routes a key press to the screen shown and acts on what the screen asks for.
func (m Model) screenKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	h := m.bodyHeight()
	var req tea.Msg
	var cmd tea.Cmd
	if m.flowsDue > 0 && showsFlows(m.screen) { // nothing there yet
		return m, nil
	}
	switch m.screen {
	case screenOverview:
		req = m.ov.update(m.c, msg, m.width, h)
	case screenFlows:
		built := m.fl.build(m.c)
		req, cmd = m.fl.update(m.c, msg, h)
		cmd = tea.Batch(built, cmd) // a sort off the UI loop
	case screenTimeline:
		req = m.tl.update(m.c, msg, m.width, h)
	case screenPacket:
		req = m.pk.update(m.c, msg, m.width, h)
	case screenARP:
		req = m.arp.update(m.c, msg, h)
	case screenAnomalies:
		req = m.anom.update(m.c, msg, h)
	}
	switch req := req.(type) {
	case openFlowMsg:
		if m.flowsDue > 0 {
			m.status = m.flowsDueLine() + ": the flow opens once they are in"
			return m, cmd
		}
		m.screen = screenTimeline
		return m, tea.Batch(cmd, m.tl.open(m.c, req.flowID, req.seek))
	case openJourneyMsg:
		m.screen = screenPacket
		return m, m.pk.open(m.c, req.j)
	case showMsg:
		m.screen = screen(req)
	case statusMsg:
		m.status = string(req)
	}
	return m, cmd
}

// shortHelp is the footer's keys: the screen's own, then those of every screen.
func (m Model) shortHelp() []key.Binding {
	km := m.c.km
	var own []key.Binding
	switch m.screen {
	case screenOverview:
		own = m.ov.shortHelp(km)
	case screenFlows:
		own = m.fl.shortHelp(km)
	case screenTimeline:
		own = m.tl.shortHelp(km)
	case screenPacket:
		own = m.pk.shortHelp(km)
	case screenARP:
		own = m.arp.shortHelp(km)
	case screenAnomalies:
		own = m.anom.shortHelp(km)
	}
	return append(own, km.NextTab, km.Filter, km.Help, km.Quit)
}

// applyFilter parses expr and filters every list by it (setFilter: on many flows, once the returned
// Cmd has matched them).
func (m *Model) applyFilter(expr string) tea.Cmd {
	expr = strings.TrimSpace(expr)
	var f *correlate.Filter
	if expr != "" {
		var err error
		if f, err = correlate.ParseFilter(expr); err != nil {
			m.filterErr = clean(err.Error())
			return nil
		}
	}
	m.filterErr = ""
	return m.setFilter(f)
}

func (m Model) bodyHeight() int {
	h := m.height - 2
	if m.filtering || m.filterErr != "" || m.status != "" || m.c.filter != nil || m.pending != nil || m.flowsDue > 0 {
		h--
	}
	if h < 1 {
		h = 1
	}
	return h
}

// View implements tea.Model.
func (m Model) View() string {
	w, h := m.width, m.height
	if w < 20 || h < 5 {
		return ansi.Truncate("calipath: terminal too small", max(1, w), "")
	}
	var body string
	bh := m.bodyHeight()
	switch {
	case m.screen == screenLoading || m.c.res == nil:
		body = m.loadingView(w, bh)
	case m.showHelp:
		body = m.helpView(w, bh)
	default:
		switch m.screen {
		case screenFlows, screenTimeline, screenPacket:
			if m.flowsDue > 0 {
				body = m.c.st.dim.Render("  " + m.flowsDueLine() + "…")
				break
			}
			switch m.screen {
			case screenFlows:
				body = m.fl.view(m.c, w, bh)
			case screenTimeline:
				body = m.tl.view(m.c, w, bh)
			case screenPacket:
				body = m.pk.view(m.c, w, bh)
			}
		case screenOverview:
			body = m.ov.view(m.c, w, bh)
		case screenARP:
			body = m.arp.view(m.c, w, bh)
		case screenAnomalies:
			body = m.anom.view(m.c, w, bh)
		}
	}
	body = padLines(body, w, bh)
	var b strings.Builder
	b.WriteString(m.tabs(w))
	b.WriteByte('\n')
	b.WriteString(body)
	b.WriteByte('\n')
	if line := m.filterLine(w); line != "" {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	b.WriteString(m.footer(w))
	return b.String()
}

// padLines cuts or pads s to exactly h lines, each cut to w cells.
func padLines(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			lines[i] = truncateStyled(l, w)
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

func (m Model) tabs(w int) string {
	st := m.c.st
	parts := []string{st.title.Render("calipath")}
	if m.screen == screenLoading || m.c.res == nil {
		parts = append(parts, st.tabOn.Render("Loading"))
	} else {
		for s := screenOverview; s <= screenAnomalies; s++ {
			name := fmt.Sprintf("%d %s", int(s), s)
			if s == screenAnomalies {
				name = fmt.Sprintf("%d Anomalies(%d)", int(s), len(m.c.res.Anomalies))
			}
			if s == m.screen && !m.showHelp {
				parts = append(parts, st.tabOn.Render("["+name+"]"))
			} else {
				parts = append(parts, st.tab.Render(" "+name+" "))
			}
		}
	}
	return truncateStyled(strings.Join(parts, " "), w)
}

func (m Model) filterLine(w int) string {
	st := m.c.st
	switch {
	case m.filtering:
		m.filterInput.Width = w - 3
		line := m.filterInput.View()
		if m.filterErr != "" {
			line = truncateStyled(line, w/2) + " " + st.bad.Render(m.filterErr)
		}
		return truncateStyled(line, w)
	case m.filterErr != "":
		return truncateStyled(st.bad.Render(m.filterErr), w)
	case m.status != "":
		return truncateStyled(st.warn.Render(m.status), w)
	case m.pending != nil:
		return truncateStyled(st.warn.Render(fmt.Sprintf("filtering %s flows: %s…", fmtCount(len(m.c.res.Flows)),
			clean(m.pending.String()))), w)
	case m.c.filter != nil:
		return truncateStyled(st.warn.Render("filter: "+clean(m.c.filter.String())), w)
	case m.flowsDue > 0:
		return truncateStyled(st.warn.Render(m.flowsDueLine()+"…"), w)
	}
	return ""
}

// flowsDueLine says that the flows are still being listed, and how many.
func (m Model) flowsDueLine() string { return "still loading " + fmtCount(m.flowsDue) + " flows" }

// showsFlows reports whether screen s shows flows, or what a flow opens (nothing while they are listed).
func showsFlows(s screen) bool { return s == screenFlows || s == screenTimeline || s == screenPacket }

func (m Model) footer(w int) string {
	if m.screen == screenLoading || m.c.res == nil {
		return m.c.st.status.Render(fit("q / ctrl+c: cancel", w))
	}
	return truncateStyled(m.help.ShortHelpView(m.shortHelp()), w)
}

func (m Model) helpView(w, h int) string {
	st := m.c.st
	var keys []string
	for gi, group := range m.c.km.FullHelp() {
		if gi > 0 {
			keys = append(keys, "")
		}
		for _, k := range group {
			if !k.Enabled() { // the names key without names
				continue
			}
			hk := k.Help()
			keys = append(keys, " "+st.header.Render(fit(hk.Key, 10))+" "+hk.Desc)
		}
	}
	foot := lipgloss.NewStyle().Width(w).Render("Filter (/): host IP, net CIDR, port N, proto tcp|udp|icmp, node NAME, " +
		"point ID, kind KIND, severity S, status S, flow ID" + m.nameTerms() + "; combine with and, or, not and parentheses. " +
		"Enter applies, esc cancels, an empty filter clears it. The mouse wheel scrolls.")
	head := st.header.Render("Keys") + st.dim.Render("  (any key closes)")
	rows := max(1, h-2-lipgloss.Height(foot))
	return head + "\n" + columnize(keys, rows) + "\n" + foot
}

// columnize lays lines out in as many columns of at most h lines as needed.
func columnize(lines []string, h int) string {
	var cols []string
	for i := 0; i < len(lines); i += h {
		end := min(i+h, len(lines))
		colW := 0
		for _, l := range lines[i:end] {
			colW = max(colW, lipgloss.Width(l))
		}
		cols = append(cols, lipgloss.NewStyle().Width(colW+3).Render(strings.Join(lines[i:end], "\n")))
	}
	return lipgloss.JoinHorizontal(lipgloss.Top, cols...)
}

func (m Model) loadingView(w, h int) string {
	st := m.c.st
	var b strings.Builder
	b.WriteString(st.header.Render("Loading captures") + "\n\n")
	nameW := clamp(w-50, 10, 60)
	fl := m.fileLines
	if fl == nil {
		fl = &fileLines{}
	}
	if fl.nameW != nameW || len(fl.lines) != len(m.paths) {
		*fl = fileLines{nameW: nameW, shown: make([]fileProgress, len(m.paths)), lines: make([]string, len(m.paths))}
	}
	for i, p := range m.paths {
		var fp fileProgress
		if i < len(m.progress) {
			fp = m.progress[i]
		}
		if fl.lines[i] == "" || fl.shown[i] != fp {
			fl.shown[i], fl.lines[i] = fp, fileLine(p, fp, nameW)
		}
		b.WriteString(fl.lines[i])
	}
	if m.correlating {
		b.WriteString("\n" + st.warn.Render("correlating…"))
	}
	return b.String()
}

// fileLines is the loading screen's line of each file, with the progress it shows and the name's width:
// a redraw formats again only the files whose progress changed (one at a time on one core is read).
type fileLines struct {
	nameW int
	shown []fileProgress
	lines []string
}

// fileLine is the loading screen's line of file p with progress fp, its name nameW cells wide.
func fileLine(p string, fp fileProgress, nameW int) string {
	pct := ""
	if fp.size > 0 {
		pct = fmt.Sprintf("%3d%%", min(100, fp.bytes*100/fp.size))
	}
	state := ""
	if fp.done {
		state = "done"
	}
	return fmt.Sprintf("%s %s %s %s frames %s skipped %s\n", fit(clean(p), nameW), fitRight(pct, 4),
		fitRight(units.Bytes(fp.bytes), 9), fitRight(fmtCount(fp.frames), 11), fitRight(fmtCount(fp.skipped), 6), state)
}

// truncateStyled cuts a possibly styled line to w cells.
func truncateStyled(s string, w int) string {
	if lipgloss.Width(s) <= w {
		return s
	}
	return ansiTruncate(s, w)
}

// Run loads and correlates paths, then runs the TUI until the user quits or ctx ends. When the input
// gives nothing to show (correlate.Check: no input could be read, …) the TUI quits and Run returns that
// *correlate.UnfitError.
//
// ctx is what stops it from outside: the caller turns signals into its end (bubbletea's own signal
// handler is off, so that SIGINT, SIGTERM and SIGHUP are handled alike, by the caller, at any
// moment). Loading and correlating stop with it; the terminal is restored either way.
func Run(ctx context.Context, paths []string, opts Options) error {
	opts.ctx = ctx
	opts.Decode.Done = ctx.Done()
	m := New(paths, opts)
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithAltScreen(), tea.WithMouseCellMotion(),
		tea.WithoutSignalHandler()}
	if opts.In != nil {
		popts = append(popts, tea.WithInput(opts.In))
	}
	if opts.Out != nil {
		popts = append(popts, tea.WithOutput(opts.Out))
	}
	final, err := tea.NewProgram(m, popts...).Run()
	if err != nil {
		if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	}
	if fm, ok := final.(Model); ok {
		if fm.unfit != nil {
			return fm.unfit
		}
		if res := fm.c.res; res != nil {
			for _, in := range res.Inputs {
				if in.Skipped > 0 || len(in.Errors) > 0 {
					return ErrInputSkipped
				}
			}
		}
	}
	return nil
}

// ErrInputSkipped is returned by Run when some input could not be read in full (the TUI showed the
// rest): the command exits 1, as the report does.
var ErrInputSkipped = errors.New("some input was skipped")
