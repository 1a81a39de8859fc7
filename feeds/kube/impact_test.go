package kube

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"sigs.k8s.io/yaml"

	"github.com/kubedrift/kubedrift/tracker"
)

// impactAPI is a fake kube-apiserver for the impact checks: /version,
// per-group-version discovery, metadata-only lists with limit/continue
// paging, /metrics and /api/v1/nodes, with some paths forbidden.
type impactAPI struct {
	version string
	// discovery maps "policy/v1beta1" to the resources it serves; a group
	// version absent here answers 404.
	discovery map[string][]metav1.APIResource
	// objects maps a list path to the objects' "ns/name" or "name".
	objects map[string][]string
	metrics string
	nodes   []corev1.Node
	// forbidden paths answer 403.
	forbidden map[string]bool

	srv *httptest.Server

	mu      sync.Mutex
	pages   map[string][]page
	accepts map[string]string
}

func startImpactAPI(t *testing.T, f *impactAPI) *impactAPI {
	t.Helper()
	f.pages = map[string][]page{}
	f.accepts = map[string]string{}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.TLS = tlsConfig(t)
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *impactAPI) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	f.mu.Lock()
	f.accepts[p] = r.Header.Get("Accept")
	f.mu.Unlock()
	if f.forbidden[p] {
		writeStatus(w, http.StatusForbidden, metav1.StatusReasonForbidden,
			fmt.Sprintf(`forbidden: User "system:serviceaccount:ops:kubedrift" cannot get path %q`, p))
		return
	}
	// Aggregated discovery is not offered: a client asking for it alone
	// gets 406, as from an API server that predates it.
	if acc := r.Header.Get("Accept"); strings.Contains(acc, "as=APIGroupDiscoveryList") && !strings.Contains(acc, "application/json,") && !strings.HasSuffix(acc, "application/json") {
		writeStatus(w, http.StatusNotAcceptable, metav1.StatusReasonNotAcceptable, "only application/json is served")
		return
	}
	switch {
	case p == "/version":
		writeJSON(w, http.StatusOK, version.Info{Major: "1", GitVersion: f.version})
		return
	case p == "/metrics":
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(f.metrics))
		return
	case p == "/api/v1/nodes":
		writeJSON(w, http.StatusOK, corev1.NodeList{TypeMeta: metav1.TypeMeta{Kind: "NodeList", APIVersion: "v1"}, Items: f.nodes})
		return
	case strings.HasPrefix(p, "/apis/"):
		parts := strings.Split(strings.TrimPrefix(p, "/apis/"), "/")
		if len(parts) == 2 {
			gv := parts[0] + "/" + parts[1]
			res, ok := f.discovery[gv]
			if !ok {
				writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
				return
			}
			writeJSON(w, http.StatusOK, metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv, APIResources: res})
			return
		}
		if names, ok := f.objects[p]; ok {
			f.list(w, r, names)
			return
		}
	}
	writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
}

// list answers a metadata-only list, paged by limit/continue.
func (f *impactAPI) list(w http.ResponseWriter, r *http.Request, names []string) {
	if !strings.Contains(r.Header.Get("Accept"), "as=PartialObjectMetadataList") {
		writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "this fake serves metadata-only lists")
		return
	}
	q := r.URL.Query()
	f.mu.Lock()
	f.pages[r.URL.Path] = append(f.pages[r.URL.Path], page{q.Get("limit"), q.Get("continue")})
	f.mu.Unlock()
	start := 0
	if c := q.Get("continue"); c != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "after-"))
		if err != nil || n < 0 || n > len(names) {
			writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "invalid continue token")
			return
		}
		start = n
	}
	end := len(names)
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 && start+l < end {
		end = start + l
	}
	list := metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadataList", APIVersion: "meta.k8s.io/v1"}}
	list.ResourceVersion = "777"
	for _, n := range names[start:end] {
		m := metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadata", APIVersion: "meta.k8s.io/v1"}}
		if ns, name, ok := strings.Cut(n, "/"); ok {
			m.Namespace, m.Name = ns, name
		} else {
			m.Name = n
		}
		list.Items = append(list.Items, m)
	}
	if end < len(names) {
		list.Continue = fmt.Sprintf("after-%d", end)
	}
	writeJSON(w, http.StatusOK, list)
}

// tlsConfig serves TLS, because client-go sends credentials only over TLS.
func tlsConfig(t *testing.T) *tls.Config {
	t.Helper()
	return &tls.Config{Certificates: []tls.Certificate{serverCert(t)}}
}

func fixtureRemovals(t *testing.T) []tracker.Removal {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "impact", "removals.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rs []tracker.Removal
	if err := yaml.UnmarshalStrict(b, &rs); err != nil {
		t.Fatalf("testdata/impact/removals.yaml: %v", err)
	}
	for _, r := range rs {
		if err := r.Validate(); err != nil {
			t.Fatalf("testdata/impact/removals.yaml: %v", err)
		}
	}
	return rs
}

func fixtureMetrics(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "impact", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func nodesWithRuntime(n int, kubelet, runtime string) []corev1.Node {
	nodes := makeNodes(n, n, kubelet, "")
	for i := range nodes {
		nodes[i].Status.NodeInfo.ContainerRuntimeVersion = runtime
	}
	return nodes
}

var policyV1beta1 = []metav1.APIResource{
	{Name: "poddisruptionbudgets", Namespaced: true, Kind: "PodDisruptionBudget", Verbs: metav1.Verbs{"get", "list", "watch"}},
	{Name: "poddisruptionbudgets/status", Namespaced: true, Kind: "PodDisruptionBudget", Verbs: metav1.Verbs{"get"}},
	{Name: "podsecuritypolicies", Kind: "PodSecurityPolicy", Verbs: metav1.Verbs{"get", "list", "watch"}},
}

type wantVerdict struct{ subject, status, detail, reason string }

func TestCheckImpact(t *testing.T) {
	rs := fixtureRemovals(t)
	psps := []string{"restricted", "privileged", "baseline", "legacy-logging", "legacy-monitoring"}
	tests := []struct {
		name string
		api  *impactAPI
		// path is the upgrade path judged; one slice of wanted verdicts per step.
		path         []tracker.Step
		want         [][]wantVerdict
		wantPSPPages []page
		wantAPIs     []tracker.APIEvidence
	}{
		{
			name: "1.24 cluster with PodSecurityPolicies and deprecated clients",
			api: &impactAPI{
				version:   "v1.24.17",
				discovery: map[string][]metav1.APIResource{"policy/v1beta1": policyV1beta1},
				objects: map[string][]string{
					"/apis/policy/v1beta1/podsecuritypolicies":  psps,
					"/apis/policy/v1beta1/poddisruptionbudgets": {"web/frontend"},
				},
				metrics:   fixtureMetrics(t, "metrics.txt"),
				nodes:     nodesWithRuntime(3, "v1.24.17", "containerd://1.6.8"),
				forbidden: map[string]bool{"/apis/events.k8s.io/v1beta1": true},
			},
			path: []tracker.Step{{From: "v1.24.17", To: "v1.25.16"}},
			want: [][]wantVerdict{{
				{"PodSecurityPolicy", tracker.StatusBlocker, "5 PodSecurityPolicies still exist; migrate before 1.25", ""},
				{"policy/v1beta1 PodDisruptionBudget", tracker.StatusBlocker, "clients called policy/v1beta1 poddisruptionbudgets since the API server started (15 requests); update them to policy/v1 PodDisruptionBudget before 1.25", ""},
				{"policy/v1beta1 PodSecurityPolicy", tracker.StatusBlocker, "5 PodSecurityPolicies still exist; migrate before 1.25", ""},
				{"batch/v1beta1 CronJob", tracker.StatusClear, "batch/v1beta1 cronjobs is not served by this cluster", ""},
				// Discovery was forbidden, but Events have a same-kind
				// replacement and the metric shows no client.
				{"events.k8s.io/v1beta1 Event", tracker.StatusClear, "no client called events.k8s.io/v1beta1 events since the API server started", ""},
			}},
			wantPSPPages: []page{{"2", ""}, {"2", "after-2"}, {"2", "after-4"}},
			wantAPIs: []tracker.APIEvidence{
				{Group: "policy", Version: "v1beta1", Resource: "podsecuritypolicies", Served: true, Objects: 5, Examples: []string{"restricted", "privileged", "baseline"}},
				{Group: "batch", Version: "v1beta1", Resource: "cronjobs"},
				{Group: "events.k8s.io", Version: "v1beta1", Resource: "events", Unknown: "forbidden: get /apis/events.k8s.io/v1beta1"},
				{Group: "policy", Version: "v1beta1", Resource: "poddisruptionbudgets", Served: true, Objects: 1, Examples: []string{"web/frontend"}},
			},
		},
		{
			name: "read-only role without list on PSPs, /metrics or nodes",
			api: &impactAPI{
				version:   "v1.24.17",
				discovery: map[string][]metav1.APIResource{"policy/v1beta1": policyV1beta1},
				objects:   map[string][]string{"/apis/policy/v1beta1/podsecuritypolicies": psps, "/apis/policy/v1beta1/poddisruptionbudgets": {"web/frontend"}},
				forbidden: map[string]bool{"/apis/policy/v1beta1/podsecuritypolicies": true, "/metrics": true, "/api/v1/nodes": true},
			},
			path: []tracker.Step{{From: "v1.23.17", To: "v1.24.17"}, {From: "v1.24.17", To: "v1.25.16"}},
			want: [][]wantVerdict{
				{{"Docker Engine runtime (dockershim)", tracker.StatusUnknown, "could not read node container runtimes: forbidden: list nodes", "forbidden: list nodes"}},
				{
					{"PodSecurityPolicy", tracker.StatusUnknown, "could not check policy/v1beta1 podsecuritypolicies", "forbidden: list podsecuritypolicies.policy; forbidden: get /metrics"},
					{"policy/v1beta1 PodDisruptionBudget", tracker.StatusUnknown, "could not check policy/v1beta1 poddisruptionbudgets", "forbidden: get /metrics"},
					{"policy/v1beta1 PodSecurityPolicy", tracker.StatusUnknown, "could not check policy/v1beta1 podsecuritypolicies", "forbidden: list podsecuritypolicies.policy; forbidden: get /metrics"},
					{"batch/v1beta1 CronJob", tracker.StatusClear, "batch/v1beta1 cronjobs is not served by this cluster", ""},
					{"events.k8s.io/v1beta1 Event", tracker.StatusClear, "events.k8s.io/v1beta1 events is not served by this cluster", ""},
				},
			},
		},
		{
			name: "1.23 cluster with Docker Engine nodes",
			api: &impactAPI{
				version:   "v1.23.17",
				discovery: map[string][]metav1.APIResource{"policy/v1beta1": policyV1beta1},
				objects:   map[string][]string{"/apis/policy/v1beta1/podsecuritypolicies": nil, "/apis/policy/v1beta1/poddisruptionbudgets": nil},
				metrics:   "# no deprecated API was requested\n",
				nodes: append(nodesWithRuntime(2, "v1.23.17", "docker://20.10.17"),
					corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-new"}, Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.23.17", ContainerRuntimeVersion: "containerd://1.6.8"}}}),
			},
			path: []tracker.Step{{From: "v1.23.17", To: "v1.24.17"}, {From: "v1.24.17", To: "v1.25.16"}},
			want: [][]wantVerdict{
				{{"Docker Engine runtime (dockershim)", tracker.StatusBlocker, "2 nodes run Docker Engine runtime (dockershim) (docker://20.10.17); switch them to containerd or CRI-O before 1.24", ""}},
				{
					{"PodSecurityPolicy", tracker.StatusClear, "no PodSecurityPolicies exist and no client called policy/v1beta1 since the API server started", ""},
					{"batch/v1beta1 CronJob", tracker.StatusClear, "batch/v1beta1 cronjobs is not served by this cluster", ""},
					{"events.k8s.io/v1beta1 Event", tracker.StatusClear, "events.k8s.io/v1beta1 events is not served by this cluster", ""},
					{"policy/v1beta1 PodDisruptionBudget", tracker.StatusClear, "no client called policy/v1beta1 poddisruptionbudgets since the API server started", ""},
					{"policy/v1beta1 PodSecurityPolicy", tracker.StatusClear, "no PodSecurityPolicies exist", ""},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := startImpactAPI(t, tt.api)
			kc := writeKubeconfig(t, filepath.Join(t.TempDir(), "config"), "prod",
				kcContext{name: "prod", token: "impact-secret-token", srv: api.srv})
			ev, err := CheckImpact(context.Background(), Options{Kubeconfig: []string{kc}, PageSize: 2}, "prod", rs)
			if err != nil {
				t.Fatalf("CheckImpact: %v", err)
			}
			if ev.ServerVersion != tt.api.version || ev.RequestsWindow != RequestsWindow {
				t.Errorf("server version %q window %q", ev.ServerVersion, ev.RequestsWindow)
			}
			got := tracker.Verdicts(rs, tt.path, ev)
			for i, step := range got {
				var g []wantVerdict
				for _, v := range step.Verdicts {
					g = append(g, wantVerdict{v.Subject, v.Status, v.Detail, v.Reason})
				}
				if len(g) != len(tt.want[i]) {
					t.Errorf("step %s: got %d verdicts, want %d:\n%+v", step.To, len(g), len(tt.want[i]), g)
					continue
				}
				for j := range g {
					w := tt.want[i][j]
					if g[j].subject != w.subject || g[j].status != w.status || !strings.HasPrefix(g[j].detail, w.detail) || g[j].reason != w.reason {
						t.Errorf("step %s verdict %d:\n got %+v\nwant %+v", step.To, j, g[j], w)
					}
				}
			}
			if tt.wantPSPPages != nil {
				api.mu.Lock()
				pages := api.pages["/apis/policy/v1beta1/podsecuritypolicies"]
				acc := api.accepts["/apis/policy/v1beta1/podsecuritypolicies"]
				api.mu.Unlock()
				if !slices.Equal(pages, tt.wantPSPPages) {
					t.Errorf("PSP list pages (limit, continue) = %v, want %v", pages, tt.wantPSPPages)
				}
				if !strings.Contains(acc, "as=PartialObjectMetadataList;g=meta.k8s.io;v=v1") {
					t.Errorf("PSP list Accept = %q, want a metadata-only list", acc)
				}
				api.mu.Lock()
				dacc := api.accepts["/apis/policy/v1beta1"]
				api.mu.Unlock()
				if !strings.Contains(dacc, "application/json") {
					t.Errorf("discovery Accept = %q, want plain (non-aggregated) JSON accepted", dacc)
				}
			}
			if tt.wantAPIs != nil {
				slices.SortFunc(ev.APIs, func(a, b tracker.APIEvidence) int {
					return strings.Compare(a.Group+a.Version+a.Resource, b.Group+b.Version+b.Resource)
				})
				slices.SortFunc(tt.wantAPIs, func(a, b tracker.APIEvidence) int {
					return strings.Compare(a.Group+a.Version+a.Resource, b.Group+b.Version+b.Resource)
				})
				if fmt.Sprintf("%+v", ev.APIs) != fmt.Sprintf("%+v", tt.wantAPIs) {
					t.Errorf("APIs:\n got %+v\nwant %+v", ev.APIs, tt.wantAPIs)
				}
			}
			if s := fmt.Sprintf("%+v", ev); strings.Contains(s, "impact-secret-token") {
				t.Error("evidence contains the bearer token")
			}
		})
	}
}

func TestCheckImpactErrors(t *testing.T) {
	rs := fixtureRemovals(t)
	down := startImpactAPI(t, &impactAPI{version: "v1.24.0"})
	kc := writeKubeconfig(t, filepath.Join(t.TempDir(), "config"), "down",
		kcContext{name: "down", token: "down-secret-token", srv: down.srv})
	down.srv.Close() // nothing answers any more
	tests := []struct {
		name, context, want string
	}{
		{"unknown context", "staging", `context "staging" not found in kubeconfig`},
		{"unreachable server", "down", "read server version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CheckImpact(context.Background(), Options{Kubeconfig: []string{kc}}, tt.context, rs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckImpact error = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "down-secret-token") {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

func TestParseDeprecatedRequests(t *testing.T) {
	tests := []struct {
		file         string
		want         []tracker.RequestEvidence
		wantProblems []string
	}{
		{"metrics.txt", []tracker.RequestEvidence{
			{Group: "policy", Version: "v1beta1", Resource: "poddisruptionbudgets", RemovedRelease: "1.25", Count: 15},
			{Group: "policy", Version: "v1beta1", Resource: "podsecuritypolicies", RemovedRelease: "1.25", Count: 4},
			{Group: "flowcontrol.apiserver.k8s.io", Version: "v1beta2", Resource: "flowschemas", Subresource: "status", RemovedRelease: "1.29", Count: 7},
		}, nil},
		{"metrics-bad.txt", []tracker.RequestEvidence{
			{Group: "batch", Version: "v1beta1", Resource: "cronjobs", RemovedRelease: "1.25", Count: -1},
			{Group: `x"y\z`, Version: "v1alpha1", Resource: "widgets", RemovedRelease: "1.40", Count: -1},
		}, []string{"line 3: apiserver_requested_deprecated_apis: unexpected end of label value", "line 4: apiserver_requested_deprecated_apis: expected float as value"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, problems := ParseDeprecatedRequests([]byte(fixtureMetrics(t, tt.file)))
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("requests:\n got %+v\nwant %+v", got, tt.want)
			}
			if len(problems) != len(tt.wantProblems) {
				t.Fatalf("problems = %q, want %d", problems, len(tt.wantProblems))
			}
			for i, w := range tt.wantProblems {
				if !strings.HasPrefix(problems[i], w) {
					t.Errorf("problem %d = %q, want prefix %q", i, problems[i], w)
				}
			}
		})
	}
}

func FuzzParseDeprecatedRequests(f *testing.F) {
	f.Add([]byte(`apiserver_requested_deprecated_apis{group="policy",version="v1beta1",resource="podsecuritypolicies"} 1`))
	f.Add([]byte("apiserver_request_total{group=\"a\\\"\"} 1e3 12\napiserver_requested_deprecated_apis{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, _ := ParseDeprecatedRequests(b)
		for _, r := range got {
			if r.Count < -1 {
				t.Fatalf("negative count %d", r.Count)
			}
		}
	})
}

func TestImpactPermissions(t *testing.T) {
	got := ImpactPermissions(fixtureRemovals(t))
	want := []string{
		"get nonResourceURLs /apis/batch/v1beta1", "get nonResourceURLs /apis/events.k8s.io/v1beta1",
		"get nonResourceURLs /apis/policy/v1beta1", "get nonResourceURLs /metrics", "get nonResourceURLs /version",
		"list cronjobs.batch", "list events.events.k8s.io", "list nodes",
		"list poddisruptionbudgets.policy", "list podsecuritypolicies.policy",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ImpactPermissions:\n got %q\nwant %q", got, want)
	}
}

// BenchmarkParseDeprecatedRequests reads a /metrics body of the size a busy
// kube-apiserver exposes (tens of thousands of series, most of other
// families).
func BenchmarkParseDeprecatedRequests(b *testing.B) {
	var sb strings.Builder
	for i := range 40000 {
		fmt.Fprintf(&sb, "apiserver_request_duration_seconds_bucket{component=\"apiserver\",group=\"apps\",resource=\"r%d\",verb=\"LIST\",le=\"0.5\"} %d\n", i, i)
	}
	for i := range 2000 {
		fmt.Fprintf(&sb, "apiserver_request_total{code=\"200\",group=\"g%d.example\",resource=\"things\",subresource=\"\",verb=\"GET\",version=\"v1beta1\"} %d\n", i%50, i)
	}
	for i := range 50 {
		fmt.Fprintf(&sb, "apiserver_requested_deprecated_apis{group=\"g%d.example\",removed_release=\"1.40\",resource=\"things\",subresource=\"\",version=\"v1beta1\"} 1\n", i)
	}
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		got, problems := ParseDeprecatedRequests(body)
		if len(got) != 50 || len(problems) != 0 {
			b.Fatalf("got %d requests, problems %v", len(got), problems)
		}
	}
}

// BenchmarkCheckImpact checks a cluster with 5,000 PodSecurityPolicies
// (10 pages of 500) end to end through client-go.
func BenchmarkCheckImpact(b *testing.B) {
	names := make([]string, 5000)
	for i := range names {
		names[i] = fmt.Sprintf("psp-%04d", i)
	}
	api := &impactAPI{
		version:   "v1.24.17",
		discovery: map[string][]metav1.APIResource{"policy/v1beta1": policyV1beta1},
		objects:   map[string][]string{"/apis/policy/v1beta1/podsecuritypolicies": names, "/apis/policy/v1beta1/poddisruptionbudgets": nil},
		metrics:   "apiserver_requested_deprecated_apis{group=\"policy\",removed_release=\"1.25\",resource=\"podsecuritypolicies\",version=\"v1beta1\"} 1\n",
		nodes:     nodesWithRuntime(100, "v1.24.17", "containerd://1.6.8"),
	}
	api.pages, api.accepts = map[string][]page{}, map[string]string{}
	api.srv = httptest.NewUnstartedServer(http.HandlerFunc(api.serve))
	api.srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert(b)}}
	api.srv.StartTLS()
	defer api.srv.Close()
	kc := writeKubeconfig(b, filepath.Join(b.TempDir(), "config"), "prod", kcContext{name: "prod", token: "bench-token", srv: api.srv})
	rb, err := os.ReadFile(filepath.Join("testdata", "impact", "removals.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var rs []tracker.Removal
	if err := yaml.UnmarshalStrict(rb, &rs); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ev, err := CheckImpact(context.Background(), Options{Kubeconfig: []string{kc}}, "prod", rs)
		if err != nil {
			b.Fatal(err)
		}
		if len(ev.APIs) == 0 || ev.APIs[0].Objects != 5000 {
			b.Fatalf("evidence %+v", ev.APIs)
		}
	}
}
