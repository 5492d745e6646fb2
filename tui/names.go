package tui

// Kubernetes names. With cluster metadata (--k8s) the Result names addresses (Result.Names): every
// screen shows a named address by its name, in columns in its place ("default/pod-a:41234") and in
// prose beside it ("default/pod-a (10.244.1.5)"). The Names key switches between names and
// addresses; without names the key is off and nothing changes.

// named reports whether addresses are shown by their Kubernetes names: the Result has names and the
// Names key has not turned them off.
func (c *common) named() bool { return !c.addrsOnly && c.res != nil && len(c.res.Names) > 0 }

// short makes a string from the Result safe to print, its named addresses replaced by their names
// when names are shown: for columns.
func (c *common) short(s string) string {
	if c.named() {
		s = c.res.NameOnly(s)
	}
	return clean(s)
}

// long makes a string from the Result safe to print, its named addresses with their names beside
// them when names are shown: for prose.
func (c *common) long(s string) string {
	if c.named() {
		s = c.res.Named(s)
	}
	return clean(s)
}

// nameTerms names the filter terms of Kubernetes names for the help screen, when the Result has names.
func (m Model) nameTerms() string {
	if m.c.res == nil || len(m.c.res.Names) == 0 {
		return ""
	}
	return ", pod NS/NAME, ns NS, svc NAME"
}
