package changelog

import (
	"slices"
	"testing"

	"github.com/kubedrift/kubedrift/tracker"
)

func TestIsRemoval(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		// Removals: something users rely on stops existing or being served.
		{"The beta `WidgetPolicy` admission plugin, deprecated since 1.19, is removed.", true},
		{"The in-tree gluster volume plugin was removed.", true},
		{"The intree volume plugin frobnicator support has been completely removed from Kubernetes.", true},
		{"The `--enable-frob` flag has been removed.", true},
		{"Kubelet's deprecated `--frob-dir` flag is now removed. Use `--data-dir` instead.", true},
		{"Kube-scheduler: removed the deprecated `--policy-config-file` flag.", true},
		{"Removed flags `frob-qps` and `frob-burst`.", true},
		{"Removed deprecated example.io/default-widget annotation support", true},
		{"Deprecated beta APIs scheduled for removal in 1.40 are no longer served.", true},
		{"The `widgets.example.io/v1beta1` API version is no longer served.", true},
		{"The kubelet no longer supports collecting GPU metrics through cAdvisor.", true},
		{"Use of the annotation in static pods is no longer supported.", true},
		{"Feature gates that graduated to GA in 1.30 were removed: Foo, Bar.", true},
		{"The `spec.frobnicate` field is completely removed.", true},
		{"`apiserver_widget_total` was removed from the codebase.", true},
		{"Support for the alpha widget annotations was partially removed. Pods should use the field.", true},
		{"The `foo` and `bar` auth plugins have been removed from client-go and kubectl.", true},
		{"Dropped support for the v1alpha1 CRI API.", true},
		{"kubectl: the `convert` subcommand was removed.", true},
		{"Some metrics changed:\n- `widget_seconds` is replaced with `widget_duration`.\n- `widget_marks` is removed.", true},
		{"`old_metric` is dropped from this release since `new_metric` covers it.", true},
		{"The deprecated **Frob** plugin has been removed.", true},

		// Plans: deprecations that announce a later removal.
		{"The `--frob` flag is deprecated and will be removed in 1.40.", false},
		{"The `Widget` feature gate is deprecated and scheduled for removal in a future release.", false},
		{"The feature gate will be removed in `v1.40`.", false},
		{"Auto-population of the fields is planned to be removed in 1.40.", false},
		{"These flags are not needed and they'll be removed soon following the policy.", false},
		{"The gate will no longer be accepted as a `--feature-gates` parameter in 1.40.", false},
		{"The frob API should be removed from your manifests before upgrading.", false},
		{"The `--foo` flag is deprecated; it may be removed in a future release.", false},
		{"The field is no longer removed on update.", false},
		{"The `EphemeralWidgets` gate is always enabled and should be removed from `--feature-gates`.", false},

		// Cleanups and fixes that happen to say "remove".
		{"Removed the dependency on github.com/example/frob.", false},
		{"Removes a bug where the scheduler crashed on empty pods.", false},
		{"Remove unnecessary log line in the kubelet.", false},
		{"Removed unused flags from `kubectl frob` command.", false},
		{"Removed branch `release-1.20` from the bot.", false},
		{"Removed the recently re-introduced scoring predicate", false},
		{"Removed redundant validation for the PodSpec.", false},
		{"Fixed a bug where the `--frob` flag was removed from kubectl output.", false},
		{"The deprecation warning for the `foo` field was removed.", false},
		{"Deleted the `frob/clock` package. Please use `example.io/clock` instead.", false},
		{"The restriction that services must have a port has been removed.", false},

		// Conditions and past context.
		{"Kubelet now cleans up volumes when the node is removed.", false},
		{"If the annotation is removed, the controller re-creates it.", false},
		{"Treat runtimes as remote by using the flag, given the shim was removed in 1.24.", false},
		{"Volumes are no longer detached from healthy nodes after a timeout.", false},
		{"The restricted level no longer requires pods to set Linux fields.", false},
		{"In smaller clusters, it will still remove unused rules immediately once they are no longer used.", false},

		{"The `--frob` flag would have been removed had the vote passed.", false},
		{"Widgets: they'll be removed after two releases.", false},
		{"The alpha gadget API is not removed yet.", false},
		{"THE `--FROB` FLAG WAS REMOVED.", true},
		{"Drops support for the legacy widget runtime.", true},
		{"No longer served: the `gadgets.example.io/v1beta2` API.", true},
		{"First sentence is fine. Second one says the `--frob` flag was deleted.", true},

		// Nothing about removal at all.
		{"Added the `--frob` flag to kube-apiserver.", false},
		{"Promoted WidgetSets to GA.", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := IsRemoval(tt.text); got != tt.want {
				t.Errorf("IsRemoval(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name     string
		note     tracker.Note
		kinds    []tracker.Kind
		wantCVEs []string
	}{
		{
			name:     "CVE in text adds security, sorted unique",
			note:     tracker.Note{Text: "Fixes CVE-2031-2222 and CVE-2031-11111 (see CVE-2031-2222).", Kinds: []tracker.Kind{tracker.KindBug}},
			kinds:    []tracker.Kind{tracker.KindBug, tracker.KindSecurity},
			wantCVEs: []string{"CVE-2031-11111", "CVE-2031-2222"},
		},
		{
			name:     "security entry without CVE in text",
			note:     tracker.Note{Text: "A widget could escape.", Security: &tracker.SecurityInfo{ID: "CVE-2031-1"}},
			kinds:    []tracker.Kind{tracker.KindSecurity},
			wantCVEs: []string{},
		},
		{
			name:     "removal added after upstream kind, nil kinds and CVEs become empty",
			note:     tracker.Note{Text: "The `--frob` flag was removed.", Kinds: []tracker.Kind{tracker.KindDeprecation}},
			kinds:    []tracker.Kind{tracker.KindDeprecation, tracker.KindRemoval},
			wantCVEs: []string{},
		},
		{
			name:     "plain note stays as is",
			note:     tracker.Note{Text: "Adds a widget."},
			kinds:    []tracker.Kind{},
			wantCVEs: []string{},
		},
		{
			name:     "existing kinds are kept (classify only adds)",
			note:     tracker.Note{Text: "Adds a widget.", Kinds: []tracker.Kind{tracker.KindRemoval}, CVEs: []string{"CVE-2031-5555"}},
			kinds:    []tracker.Kind{tracker.KindSecurity, tracker.KindRemoval},
			wantCVEs: []string{"CVE-2031-5555"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := tt.note
			Classify(&n)
			if !slices.Equal(n.Kinds, tt.kinds) || n.Kinds == nil {
				t.Errorf("kinds = %#v, want %v", n.Kinds, tt.kinds)
			}
			if !slices.Equal(n.CVEs, tt.wantCVEs) || n.CVEs == nil {
				t.Errorf("cves = %#v, want %v", n.CVEs, tt.wantCVEs)
			}
		})
	}
	Classify(nil) // must not panic
}
