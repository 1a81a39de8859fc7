package slack

import (
	"time"

	"github.com/kubedrift/kubedrift/notify"
	"github.com/kubedrift/kubedrift/tracker"
)

// fixedBatch is a small batch over three clusters covering every section
// the renderer draws. Note texts are written for this test, not upstream's.
func fixedBatch() notify.Batch {
	return notify.Batch{
		ID:          "batch-0001",
		Channel:     "slack-platform",
		GeneratedAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
		Advisories: []tracker.Advisory{
			{
				ID: "security/prod-eu/v1.24.3", Fingerprint: "f1", Kind: tracker.AdvisorySecurityFix,
				Severity: tracker.SeverityHigh, Cluster: "prod-eu", Distribution: "eks",
				Labels:  map[string]string{"env": "prod", "team": "core_platform"},
				Version: "v1.24.3-eks-1", Target: "v1.24.17", Subject: "v1.24.3",
				Title: "2 CVEs affect prod-eu; v1.24.17 fixes them",
				CVEs: []tracker.CVEExposure{
					{ID: "CVE-2022-3172", FixedIn: "v1.24.5", Components: []string{"kube-apiserver"}, Status: tracker.ExposureFixedInMinor, Severity: "medium", Score: 5.1, URL: "https://github.com/kubernetes/kubernetes/issues/112513", MayBeBackported: true},
					{ID: "CVE-2023-2431", FixedIn: "v1.24.14", Components: []string{"kubelet"}, Status: tracker.ExposureFixedInMinor, Severity: "low", Score: 3.4, URL: "https://kubernetes.io/docs/reference/issues-security/official-cve-feed/"},
				},
			},
			{
				ID: "removal/staging/v1.25", Fingerprint: "f2", Kind: tracker.AdvisoryRemoval,
				Severity: tracker.SeverityMedium, Cluster: "staging", Distribution: "vanilla",
				Version: "v1.24.9", Target: "v1.25.16", Subject: "1.25",
				Title:  "Upgrading staging to 1.25 removes 1 feature",
				Detail: "Check workloads before the next step.",
				Notes: []tracker.Note{{
					Component: "kubernetes", Version: "v1.25.0", FirstSeen: "v1.25.0-alpha.2",
					Kinds: []tracker.Kind{tracker.KindDeprecation, tracker.KindRemoval}, PR: 108000,
					Text: "The `FrobnicatorPolicy` admission plugin is gone; migrate to the *built-in* replacement first.",
					URL:  "https://github.com/kubernetes/kubernetes/pull/108000",
				}},
			},
			{
				ID: "action-required/staging/v1.25", Fingerprint: "f3", Kind: tracker.AdvisoryActionRequired,
				Severity: tracker.SeverityHigh, Cluster: "staging", Distribution: "vanilla",
				Version: "v1.24.9", Target: "v1.25.16", Subject: "1.25",
				Title: "Upgrading staging to 1.25 has 1 urgent upgrade note",
				Notes: []tracker.Note{{
					Component: "kubernetes", Version: "v1.25.0", FirstSeen: "v1.25.0-rc.1",
					Kinds: []tracker.Kind{tracker.KindAPIChange}, ActionRequired: true, PR: 108123,
					Text: "Widgets served under `example.k8s.io/v1beta1` now need the --widget-mode flag & a restart.",
				}},
			},
			{
				ID: "eol/legacy/1.22", Fingerprint: "f4", Kind: tracker.AdvisoryEOL,
				Severity: tracker.SeverityCritical, Cluster: "legacy", Distribution: "k3s",
				Version: "v1.22.17+k3s1", Target: "v1.23.17", Subject: "1.22",
				Title: "1.22 reached end of life on 2022-10-28", DueDate: "2022-10-28",
				Links: []string{"https://kubernetes.io/releases/patch-releases/"},
			},
			{
				ID: "skew/legacy/kubelet-too-old", Fingerprint: "f5", Kind: tracker.AdvisorySkew,
				Severity: tracker.SeverityMedium, Cluster: "legacy", Distribution: "k3s",
				Version: "v1.22.17+k3s1", Subject: "kubelet-too-old",
				Title:  "kubelet on 2 nodes is 3 minors older than the API server",
				Detail: "Nodes pool-a-1, pool-a-2 run v1.19.16; the policy allows two minors before 1.25.",
			},
		},
	}
}
