package tracker

import (
	"slices"
	"strings"
	"testing"
)

var impactRemovals = []Removal{
	{Subject: "Docker Engine runtime (dockershim)", Kind: RemovalNodeDependency, Runtime: "docker", DeprecatedIn: "1.20", RemovedIn: "1.24", Replacement: "containerd or CRI-O", SourcePR: 97252, Source: SourceCurated, Component: "kubelet"},
	{Subject: "policy/v1beta1 PodSecurityPolicy", Kind: RemovalAPI, Group: "policy", Version: "v1beta1", Resource: "podsecuritypolicies", RemovedIn: "1.25", Replacement: "Pod Security Admission", SourcePR: 108797},
	{Subject: "batch/v1beta1 CronJob", Kind: RemovalAPI, Group: "batch", Version: "v1beta1", Resource: "cronjobs", RemovedIn: "1.25", Replacement: "batch/v1 CronJob", SourcePR: 108797},
	{Subject: "kubelet --made-up-flag", Kind: RemovalFlag, RemovedIn: "1.25", SourcePR: 4242, Component: "kubelet"},
	{Subject: "flowcontrol.apiserver.k8s.io/v1beta2 FlowSchema", Kind: RemovalAPI, Group: "flowcontrol.apiserver.k8s.io", Version: "v1beta2", Resource: "flowschemas", RemovedIn: "1.29", Replacement: "flowcontrol.apiserver.k8s.io/v1 FlowSchema", Source: SourceCurated},
}

func TestJudge(t *testing.T) {
	psp, cron, flag, docker := impactRemovals[1], impactRemovals[2], impactRemovals[3], impactRemovals[0]
	const window = "since the API server started"
	tests := []struct {
		name     string
		r        Removal
		ev       Evidence
		status   string
		detail   string
		reason   string
		examples []string
	}{
		{"psp objects block", psp, Evidence{RequestsWindow: window, APIs: []APIEvidence{{Group: "policy", Version: "v1beta1", Resource: "podsecuritypolicies", Served: true, Objects: 3, Examples: []string{"a", "b", "c"}}}},
			StatusBlocker, "3 PodSecurityPolicies still exist; migrate before 1.25 (replacement: Pod Security Admission)", "", []string{"a", "b", "c"}},
		{"one psp", psp, Evidence{APIs: []APIEvidence{{Group: "policy", Version: "v1beta1", Resource: "podsecuritypolicies", Served: true, Objects: 1, Examples: []string{"a"}}}},
			StatusBlocker, "1 PodSecurityPolicy still exists; migrate before 1.25", "", []string{"a"}},
		{"psp none and no requests", psp, Evidence{RequestsWindow: window, APIs: []APIEvidence{{Group: "policy", Version: "v1beta1", Resource: "podsecuritypolicies", Served: true}}},
			StatusClear, "no PodSecurityPolicies exist and no client called policy/v1beta1 since the API server started", "", nil},
		{"psp list forbidden", psp, Evidence{RequestsWindow: window, APIs: []APIEvidence{{Group: "policy", Version: "v1beta1", Resource: "podsecuritypolicies", Served: true, Unknown: "forbidden: list podsecuritypolicies.policy"}}},
			StatusUnknown, "could not check", "forbidden: list podsecuritypolicies.policy", nil},
		{"psp not served", psp, Evidence{APIs: []APIEvidence{{Group: "policy", Version: "v1beta1", Resource: "podsecuritypolicies"}}},
			StatusClear, "policy/v1beta1 podsecuritypolicies is not served by this cluster", "", nil},
		{"psp requested although list forbidden", psp, Evidence{RequestsWindow: window,
			APIs:     []APIEvidence{{Group: "policy", Version: "v1beta1", Resource: "podsecuritypolicies", Served: true, Unknown: "forbidden: list podsecuritypolicies.policy"}},
			Requests: []RequestEvidence{{Group: "policy", Version: "v1beta1", Resource: "podsecuritypolicies", RemovedRelease: "1.25", Count: -1}}},
			StatusBlocker, "clients called policy/v1beta1 podsecuritypolicies since the API server started; update them to Pod Security Admission before 1.25", "", nil},
		{"cronjobs stored but served by batch/v1", cron, Evidence{RequestsWindow: window, APIs: []APIEvidence{{Group: "batch", Version: "v1beta1", Resource: "cronjobs", Served: true, Objects: 7}}},
			StatusClear, "no client called batch/v1beta1 cronjobs since the API server started", "", nil},
		{"cronjobs requested", cron, Evidence{RequestsWindow: window, APIs: []APIEvidence{{Group: "batch", Version: "v1beta1", Resource: "cronjobs", Served: true, Objects: 7}},
			Requests: []RequestEvidence{{Group: "batch", Version: "v1beta1", Resource: "cronjobs", Count: 40}, {Group: "batch", Version: "v1beta1", Resource: "cronjobs", Subresource: "status", Count: 2}}},
			StatusBlocker, "clients called batch/v1beta1 cronjobs since the API server started (42 requests); update them to batch/v1 CronJob before 1.25", "", nil},
		{"cronjobs metrics forbidden", cron, Evidence{RequestsUnknown: "forbidden: get /metrics", APIs: []APIEvidence{{Group: "batch", Version: "v1beta1", Resource: "cronjobs", Served: true}}},
			StatusUnknown, "could not check batch/v1beta1 cronjobs: forbidden: get /metrics", "forbidden: get /metrics", nil},
		{"api not looked up", cron, Evidence{},
			StatusClear, "no client called", "", nil},
		{"flag cannot be read", flag, Evidence{},
			StatusUnknown, "kubelet --made-up-flag is removed in 1.25; check your kubelet configuration before upgrading", "kubedrift cannot read kubelet configuration through the Kubernetes API", nil},
		{"docker nodes", docker, Evidence{Runtimes: []RuntimeEvidence{{Runtime: "containerd://1.6.8", Nodes: 4}, {Runtime: "docker://20.10.7", Nodes: 2, Examples: []string{"n1", "n2"}}, {Runtime: "docker://19.3.15", Nodes: 3, Examples: []string{"n3", "n4", "n5"}}}},
			StatusBlocker, "5 nodes run Docker Engine runtime (dockershim) (docker://20.10.7, docker://19.3.15); switch them to containerd or CRI-O before 1.24", "", []string{"n1", "n2", "n3"}},
		{"containerd only", docker, Evidence{Runtimes: []RuntimeEvidence{{Runtime: "containerd://1.6.8", Nodes: 4}}},
			StatusClear, "no node runs a docker runtime", "", nil},
		{"nodes forbidden", docker, Evidence{RuntimesUnknown: "forbidden: list nodes"},
			StatusUnknown, "could not read node container runtimes: forbidden: list nodes", "forbidden: list nodes", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Judge(tt.r, tt.ev)
			if v.Status != tt.status {
				t.Errorf("status = %q, want %q (detail %q)", v.Status, tt.status, v.Detail)
			}
			if !strings.HasPrefix(v.Detail, tt.detail) {
				t.Errorf("detail = %q, want prefix %q", v.Detail, tt.detail)
			}
			if v.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", v.Reason, tt.reason)
			}
			if !slices.Equal(v.Examples, tt.examples) {
				t.Errorf("examples = %v, want %v", v.Examples, tt.examples)
			}
			if v.Subject != tt.r.Subject || v.RemovedIn != tt.r.RemovedIn || v.Kind != tt.r.Kind {
				t.Errorf("verdict %+v does not name its removal", v)
			}
		})
	}
}

func TestVerdictsSteps(t *testing.T) {
	path := []Step{
		{From: "v1.23.4", To: "v1.23.17"},
		{From: "v1.23.17", To: "v1.24.17"},
		{From: "v1.24.17", To: "v1.25.16"},
		{From: "v1.25.16", To: "v1.29.2"}, // not a real path step, but crossing several minors must work
		{From: "garbage", To: "v1.30.0"},
	}
	ev := Evidence{
		RequestsWindow: "since the API server started",
		APIs: []APIEvidence{
			{Group: "policy", Version: "v1beta1", Resource: "podsecuritypolicies", Served: true, Objects: 2, Examples: []string{"restricted", "privileged"}},
			{Group: "batch", Version: "v1beta1", Resource: "cronjobs", Served: true},
			{Group: "flowcontrol.apiserver.k8s.io", Version: "v1beta2", Resource: "flowschemas", Unknown: "forbidden: get /apis/flowcontrol.apiserver.k8s.io/v1beta2"},
		},
		Runtimes: []RuntimeEvidence{{Runtime: "docker://20.10.7", Nodes: 1, Examples: []string{"n1"}}},
	}
	got := Verdicts(impactRemovals, path, ev)
	if len(got) != len(path) {
		t.Fatalf("got %d steps, want %d", len(got), len(path))
	}
	type sv struct{ subject, status string }
	want := [][]sv{
		{},
		{{"Docker Engine runtime (dockershim)", StatusBlocker}},
		{{"policy/v1beta1 PodSecurityPolicy", StatusBlocker}, {"kubelet --made-up-flag", StatusUnknown}, {"batch/v1beta1 CronJob", StatusClear}},
		{{"flowcontrol.apiserver.k8s.io/v1beta2 FlowSchema", StatusClear}}, // discovery forbidden, but the metric shows no client
		{},
	}
	for i := range path {
		t.Run(path[i].To, func(t *testing.T) {
			var g []sv
			for _, v := range got[i].Verdicts {
				g = append(g, sv{v.Subject, v.Status})
			}
			if !slices.Equal(g, want[i]) {
				t.Errorf("verdicts:\n got %v\nwant %v", g, want[i])
			}
			if got[i].From != path[i].From || got[i].To != path[i].To {
				t.Errorf("step %s→%s, want %s→%s", got[i].From, got[i].To, path[i].From, path[i].To)
			}
		})
	}
	if n := got[2].Blockers(); n != 1 {
		t.Errorf("Blockers() = %d, want 1", n)
	}
}

func TestRemovalValidate(t *testing.T) {
	tests := []struct {
		name string
		r    Removal
		want string
	}{
		{"ok", impactRemovals[1], ""},
		{"bad minor", Removal{Subject: "x", Kind: RemovalFlag, RemovedIn: "1.x", SourcePR: 1}, "removed_in"},
		{"api without resource", Removal{Subject: "x/v1 X", Kind: RemovalAPI, Version: "v1", RemovedIn: "1.30", SourcePR: 1}, "needs version and resource"},
		{"no source", Removal{Subject: "x", Kind: RemovalFlag, RemovedIn: "1.30"}, "source_pr is required"},
		{"bad source", Removal{Subject: "x", Kind: RemovalFlag, RemovedIn: "1.30", SourcePR: 1, Source: "blog"}, `source "blog"`},
		{"runtime missing", Removal{Subject: "x", Kind: RemovalNodeDependency, RemovedIn: "1.30", SourcePR: 1}, "needs runtime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestPlural(t *testing.T) {
	for in, want := range map[string]string{"PodSecurityPolicy": "PodSecurityPolicies", "node": "nodes", "Ingress": "Ingresses", "Gateway": "Gateways"} {
		if got := pluralNoun(in); got != want {
			t.Errorf("pluralNoun(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJudgeRuntimeNeedsEveryNode(t *testing.T) {
	r := Removal{Subject: "dockershim", Kind: RemovalNodeDependency, Runtime: "docker", RemovedIn: "1.24", Source: SourceCurated}
	tests := []struct {
		name  string
		nodes []Node
		want  string
	}{
		{"no nodes known", nil, StatusUnknown},
		{"runtime not reported", []Node{{Name: "a", ContainerRuntime: "containerd://1.6.8"}, {Name: "b"}}, StatusUnknown},
		{"all containerd", []Node{{Name: "a", ContainerRuntime: "containerd://1.6.8"}}, StatusClear},
		{"one docker node", []Node{{Name: "a", ContainerRuntime: "docker://20.10.7"}, {Name: "b"}}, StatusBlocker},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Judge(r, StaticEvidence(Cluster{Version: "v1.23.6", Nodes: tt.nodes}))
			if v.Status != tt.want {
				t.Errorf("status %s (%s), want %s", v.Status, v.Detail, tt.want)
			}
		})
	}
}
