package tui

import "github.com/charmbracelet/bubbles/key"

// KeyMap lists every key the TUI understands.
type KeyMap struct {
	Quit      key.Binding
	Help      key.Binding
	Filter    key.Binding
	Back      key.Binding
	NextTab   key.Binding
	PrevTab   key.Binding
	Overview  key.Binding
	Flows     key.Binding
	Timeline  key.Binding
	Packet    key.Binding
	ARP       key.Binding
	Anomalies key.Binding
	Up        key.Binding
	Down      key.Binding
	PageUp    key.Binding
	PageDown  key.Binding
	Home      key.Binding
	End       key.Binding
	Left      key.Binding
	Right     key.Binding
	Enter     key.Binding
	SortMenu  key.Binding
	SortNext  key.Binding
	SortPrev  key.Binding
	Reverse   key.Binding
	NextLoss  key.Binding
	PrevLoss  key.Binding
	NextRetx  key.Binding
	Hex       key.Binding
	Names     key.Binding // Kubernetes names or addresses; on only when the Result has names
}

// DefaultKeyMap returns the key bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Filter:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Back:      key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		NextTab:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next screen")),
		PrevTab:   key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous screen")),
		Overview:  key.NewBinding(key.WithKeys("1", "o"), key.WithHelp("1/o", "overview")),
		Flows:     key.NewBinding(key.WithKeys("2", "f"), key.WithHelp("2/f", "flows")),
		Timeline:  key.NewBinding(key.WithKeys("3", "t"), key.WithHelp("3/t", "timeline")),
		Packet:    key.NewBinding(key.WithKeys("4", "p"), key.WithHelp("4/p", "packet")),
		ARP:       key.NewBinding(key.WithKeys("5"), key.WithHelp("5", "arp")),
		Anomalies: key.NewBinding(key.WithKeys("6", "a"), key.WithHelp("6/a", "anomalies")),
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:    key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown:  key.NewBinding(key.WithKeys("pgdown", "ctrl+f", " "), key.WithHelp("pgdn", "page down")),
		Home:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "first")),
		End:       key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "last")),
		Left:      key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "previous hop")),
		Right:     key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "next hop")),
		Enter:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		SortMenu:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort by…")),
		SortNext:  key.NewBinding(key.WithKeys(">"), key.WithHelp(">", "sort by next column")),
		SortPrev:  key.NewBinding(key.WithKeys("<"), key.WithHelp("<", "sort by previous column")),
		Reverse:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reverse sort")),
		NextLoss:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next loss")),
		PrevLoss:  key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "previous loss")),
		NextRetx:  key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "next retransmission")),
		Hex:       key.NewBinding(key.WithKeys("ctrl+x", "X"), key.WithHelp("X", "toggle hex view")),
		Names:     key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "names/addresses"), key.WithDisabled()),
	}
}

// FullHelp lists every binding in groups, for the help screen.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Overview, k.Flows, k.Timeline, k.Packet, k.ARP, k.Anomalies, k.NextTab, k.PrevTab},
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End, k.Enter, k.Back},
		{k.SortMenu, k.SortNext, k.SortPrev, k.Reverse, k.NextLoss, k.PrevLoss, k.NextRetx, k.Left, k.Right, k.Hex},
		{k.Names, k.Filter, k.Help, k.Quit},
	}
}
