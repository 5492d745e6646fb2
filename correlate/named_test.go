package correlate

import "testing"

func TestNamed(t *testing.T) {
	res := &Result{Names: []Name{
		{IP: "10.244.1.5", Kind: "pod", Namespace: "default", Name: "pod-a"},
		{IP: "10.96.0.10", Kind: "service", Namespace: "kube-system", Name: "kube-dns"},
		{IP: "192.168.10.2", Kind: "node", Name: "node-a"},
		{IP: "fd00::5", Kind: "pod", Namespace: "default", Name: "pod-6"},
	}}
	for in, want := range map[string]string{
		"10.244.1.5:41234":                     "default/pod-a (10.244.1.5):41234",
		"10.244.1.5":                           "default/pod-a (10.244.1.5)",
		"10.96.0.10:53 → 10.244.2.7:9000":      "kube-system/kube-dns (10.96.0.10):53 → 10.244.2.7:9000",
		"[fd00::5]:80":                         "default/pod-6 ([fd00::5]):80",
		"fd00::5":                              "default/pod-6 (fd00::5)",
		"sent to 192.168.10.2.":                "sent to node-a (192.168.10.2).",
		"tcp 10.244.1.5:1 → 192.168.10.2:2":    "tcp default/pod-a (10.244.1.5):1 → node-a (192.168.10.2):2",
		"default/pod-a (10.244.1.5) is named":  "default/pod-a (10.244.1.5) is named",
		"10.244.1.50 and 110.244.1.5":          "10.244.1.50 and 110.244.1.5",
		"node-a/cali5e1c4d6c68c, ab10.244.1.5": "node-a/cali5e1c4d6c68c, ab10.244.1.5",
		"x10.244.1.5 10.244.1.5-y":             "x10.244.1.5 10.244.1.5-y",
		"":                                     "",
	} {
		if got := res.Named(in); got != want {
			t.Errorf("Named(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"10.244.1.5:41234":                   "default/pod-a:41234",
		"[fd00::5]:80":                       "default/pod-6:80",
		"who-has 192.168.10.2 tell 10.0.0.1": "who-has node-a tell 10.0.0.1",
		"default/pod-a (10.244.1.5)":         "default/pod-a (10.244.1.5)",
	} {
		if got := res.NameOnly(in); got != want {
			t.Errorf("NameOnly(%q) = %q, want %q", in, got, want)
		}
	}
	if got := (&Result{}).Named("10.244.1.5:1"); got != "10.244.1.5:1" {
		t.Errorf("without names: %q", got)
	}
}
