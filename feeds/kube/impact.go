package kube

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kubedrift/kubedrift/tracker"
)

// RequestsWindow is the window apiserver_requested_deprecated_apis covers:
// the gauge is kept in memory by each API server instance.
const RequestsWindow = "since the API server started"

// Metric names read from the API server's /metrics.
const (
	metricDeprecated = "apiserver_requested_deprecated_apis"
	metricRequests   = "apiserver_request_total"
)

// impactExamples bounds the object and node names kept per check.
const impactExamples = 3

// ImpactPermissions lists the RBAC rules CheckImpact uses for rs, in
// ClusterRole terms: "get nonResourceURLs /version", "list nodes", ...
func ImpactPermissions(rs []tracker.Removal) []string {
	perms := []string{"get nonResourceURLs /version", "get nonResourceURLs /metrics", "list nodes"}
	for _, gv := range removedGroupVersions(rs) {
		perms = append(perms, "get nonResourceURLs /apis/"+gv)
	}
	for _, r := range rs {
		if r.Resource != "" {
			perms = append(perms, "list "+r.GroupResource())
		}
	}
	slices.Sort(perms)
	return slices.Compact(perms)
}

func removedGroupVersions(rs []tracker.Removal) []string {
	var gvs []string
	for _, r := range rs {
		if r.Resource != "" && r.Group != "" {
			gvs = append(gvs, r.GroupVersion())
		}
	}
	slices.Sort(gvs)
	return slices.Compact(gvs)
}

// CheckImpact reads, read-only, the evidence of whether the removals rs are
// in use in the cluster of kubeconfig context name: which removed API
// group/versions discovery still lists, how many objects each such resource
// holds (metadata-only lists, paged), which deprecated APIs clients called
// (apiserver_requested_deprecated_apis, RequestsWindow), and the nodes'
// container runtimes.
//
// A check that is forbidden or fails leaves its Unknown field (of the API,
// or Evidence.RequestsUnknown / RuntimesUnknown) set to why, naming the
// missing permission ("forbidden: list podsecuritypolicies.policy"); the
// other checks still run. The error is only for the cluster as a whole: a
// kubeconfig that cannot be loaded, an unknown context, a server that does
// not answer /version, or ctx ending. opt.Timeout bounds the whole check.
func CheckImpact(ctx context.Context, opt Options, name string, rs []tracker.Removal) (tracker.Evidence, error) {
	opt = opt.withDefaults()
	var ev tracker.Evidence
	k, err := load(opt)
	if err != nil {
		return ev, err
	}
	cfg, secrets, err := k.restConfig(name, opt)
	if err != nil {
		return ev, err
	}
	server := hostOf(cfg.Host)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return ev, fmt.Errorf("kube: check impact in context %q: set up client: %s", name, redact(err.Error(), secrets))
	}
	disc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, hc)
	if err != nil {
		return ev, fmt.Errorf("kube: check impact in context %q: set up client: %s", name, redact(err.Error(), secrets))
	}
	core, err := corev1client.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return ev, fmt.Errorf("kube: check impact in context %q: set up client: %s", name, redact(err.Error(), secrets))
	}
	meta, err := metadata.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return ev, fmt.Errorf("kube: check impact in context %q: set up client: %s", name, redact(err.Error(), secrets))
	}

	cctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	fatal := func(op string, err error) error {
		return errors.New(redact(fmt.Sprintf("kube: check impact in context %q (server %s): %s: %s", name, server, op, reason(err, cctx, opt.Timeout)), secrets))
	}
	v, err := serverVersion(cctx, disc)
	if err != nil {
		return ev, fatal("read server version", err)
	}
	ev.ServerVersion = v

	// unknown explains a failed check; a deadline or cancellation ends the
	// whole check instead, since every later call would fail the same way.
	unknown := func(perm string, err error) (string, error) {
		if cctx.Err() != nil {
			return "", fatal(perm, err)
		}
		if apierrors.IsForbidden(err) {
			return "forbidden: " + perm, nil
		}
		return redact(perm+": "+reason(err, cctx, opt.Timeout), secrets), nil
	}

	ev.APIs, err = checkAPIs(cctx, disc, meta, rs, opt.PageSize, unknown)
	if err != nil {
		return ev, err
	}
	ev.RequestsWindow = RequestsWindow
	body, err := disc.RESTClient().Get().AbsPath("/metrics").Do(cctx).Raw()
	if err != nil {
		if ev.RequestsUnknown, err = unknown("get /metrics", err); err != nil {
			return ev, err
		}
	} else {
		var problems []string
		ev.Requests, problems = ParseDeprecatedRequests(body)
		if len(problems) > 0 {
			ev.RequestsUnknown = "parse /metrics: " + strings.Join(problems, "; ")
		}
	}
	nodes, err := listNodes(cctx, core, opt.PageSize)
	if err != nil {
		if ev.RuntimesUnknown, err = unknown("list nodes", err); err != nil {
			return ev, err
		}
	} else {
		ev.Runtimes = tracker.RuntimesOf(nodes)
	}
	return ev, nil
}

// restConfig builds the client configuration of one context the way read
// does: kubedrift's user agent, rate limits, timeout, and exec plugins that
// cannot prompt. It also returns the context's secrets, for redaction.
func (k kubeconfig) restConfig(name string, opt Options) (*rest.Config, []string, error) {
	kctx, ok := k.raw.Contexts[name]
	if !ok {
		return nil, nil, fmt.Errorf("kube: context %q not found in kubeconfig (%s); available: %s", name, k.files(), strings.Join(sortedContexts(k.raw), ", "))
	}
	// client-go reports a dangling reference as "no configuration has been
	// provided"; say which entry is missing instead.
	if _, ok := k.raw.Clusters[kctx.Cluster]; !ok {
		return nil, nil, fmt.Errorf("kube: context %q: invalid kubeconfig entry: cluster %q is not defined (%s)", name, kctx.Cluster, k.files())
	}
	if _, ok := k.raw.AuthInfos[kctx.AuthInfo]; kctx.AuthInfo != "" && !ok {
		return nil, nil, fmt.Errorf("kube: context %q: invalid kubeconfig entry: user %q is not defined (%s)", name, kctx.AuthInfo, k.files())
	}
	// The files were loaded once for all contexts; NewNonInteractiveClientConfig
	// applies the same resolution as the deferred loader (auth providers, exec
	// plugins, certificates, proxy) without re-reading them per context.
	cc := clientcmd.NewNonInteractiveClientConfig(*k.raw, name, &clientcmd.ConfigOverrides{CurrentContext: name}, k.rules)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("kube: context %q: invalid kubeconfig entry: %s", name, redact(err.Error(), secretsOf(k.raw, name, nil)))
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = UserAgent
	cfg.Timeout = opt.Timeout
	cfg.QPS, cfg.Burst = clusterQPS, clusterBurst
	if cfg.ExecProvider != nil {
		// Plugins run for many clusters at once and must not fight over the
		// terminal; one that insists on prompting fails with this message.
		// Copied: the config is shared with the other contexts' goroutines.
		ep := *cfg.ExecProvider
		ep.StdinUnavailable = true
		ep.StdinUnavailableMessage = "kubedrift reads clusters concurrently and cannot prompt; log in first (e.g. run kubectl once for this context)"
		cfg.ExecProvider = &ep
	}
	return cfg, secretsOf(k.raw, name, cfg), nil
}

// checkAPIs looks each removed group/version up in discovery (one request
// per group/version, never the aggregated discovery document, so that old
// and new API servers answer alike) and lists the served removed resources
// with metadata only.
func checkAPIs(ctx context.Context, disc *discovery.DiscoveryClient, meta metadata.Interface, rs []tracker.Removal, pageSize int64,
	unknown func(string, error) (string, error)) ([]tracker.APIEvidence, error) {
	type gvState struct {
		resources map[string]bool // name → served
		unknown   string
	}
	gvs := map[string]*gvState{}
	var out []tracker.APIEvidence
	seen := map[string]bool{}
	for _, r := range rs {
		if r.Resource == "" || r.Version == "" {
			continue
		}
		key := r.GroupVersion() + "/" + r.Resource
		if seen[key] {
			continue // the PSP admission plugin shares the API's evidence
		}
		seen[key] = true
		a := tracker.APIEvidence{Group: r.Group, Version: r.Version, Resource: r.Resource}
		gv := r.GroupVersion()
		st, ok := gvs[gv]
		if !ok {
			st = &gvState{resources: map[string]bool{}}
			gvs[gv] = st
			list, err := disc.ServerResourcesForGroupVersionWithContext(ctx, gv)
			switch {
			case apierrors.IsNotFound(err):
				// Not served at all.
			case err != nil:
				path := "/apis/" + gv
				if r.Group == "" {
					path = "/api/" + gv
				}
				u, ferr := unknown("get "+path, err)
				if ferr != nil {
					return out, ferr
				}
				st.unknown = u
			default:
				for _, res := range list.APIResources {
					if !strings.Contains(res.Name, "/") && slices.Contains(res.Verbs, "list") {
						st.resources[res.Name] = true
					}
				}
			}
		}
		if st.unknown != "" {
			a.Unknown = st.unknown
			out = append(out, a)
			continue
		}
		a.Served = st.resources[r.Resource]
		if a.Served {
			n, examples, err := countObjects(ctx, meta, schema.GroupVersionResource{Group: r.Group, Version: r.Version, Resource: r.Resource}, pageSize)
			switch {
			case apierrors.IsNotFound(err):
				// Discovery was stale: the version stopped being served.
				a.Served = false
			case err != nil:
				u, ferr := unknown("list "+r.GroupResource(), err)
				if ferr != nil {
					return out, ferr
				}
				a.Unknown = u
			default:
				a.Objects, a.Examples = n, examples
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// countObjects pages through a resource's objects across all namespaces,
// metadata only, counting them and keeping the first few names.
func countObjects(ctx context.Context, meta metadata.Interface, gvr schema.GroupVersionResource, pageSize int64) (int, []string, error) {
	var examples []string
	n := 0
	opts := metav1.ListOptions{Limit: pageSize}
	restarted := false
	for {
		list, err := meta.Resource(gvr).List(ctx, opts)
		if err != nil {
			if apierrors.IsResourceExpired(err) && opts.Continue != "" && !restarted {
				// The continue token expired: count again from the start once.
				restarted, n, examples, opts.Continue = true, 0, nil, ""
				continue
			}
			return 0, nil, err
		}
		for i := range list.Items {
			if len(examples) < impactExamples {
				m := &list.Items[i]
				name := m.Name
				if m.Namespace != "" {
					name = m.Namespace + "/" + m.Name
				}
				examples = append(examples, name)
			}
		}
		n += len(list.Items)
		if list.Continue == "" {
			return n, examples, nil
		}
		if list.Continue == opts.Continue {
			return 0, nil, fmt.Errorf("server returned the same continue token twice after %d objects", n)
		}
		opts.Continue = list.Continue
	}
}

// ParseDeprecatedRequests reads the Prometheus text exposition of an API
// server's /metrics and returns one entry per
// apiserver_requested_deprecated_apis sample whose value is not 0, with
// Count the sum of the matching apiserver_request_total samples (-1 when
// that family is absent). Malformed lines of those two families are
// reported as problems ("line 12: ...") and skipped; other families are not
// parsed.
//
// Samples are parsed with Prometheus' own text parser, one line at a time:
// a /metrics body runs to tens of thousands of series of which kubedrift
// needs two families, and one bad line must not hide the others.
func ParseDeprecatedRequests(body []byte) ([]tracker.RequestEvidence, []string) {
	type key struct{ group, version, resource, subresource string }
	var (
		out      []tracker.RequestEvidence
		problems []string
		counts   = map[key]int64{}
		haveReqs bool
	)
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		// Most of a /metrics body is other families: look at bytes and make
		// a string only of the lines read.
		raw := bytes.TrimSpace(sc.Bytes())
		var family string
		switch {
		case bytes.HasPrefix(raw, []byte(metricDeprecated)) && isNameEnd(raw, len(metricDeprecated)):
			family = metricDeprecated
		case bytes.HasPrefix(raw, []byte(metricRequests)) && isNameEnd(raw, len(metricRequests)):
			family = metricRequests
		default:
			continue
		}
		labels, value, err := parseSample(family, raw)
		if err != nil {
			if len(problems) < 5 {
				problems = append(problems, fmt.Sprintf("line %d: %s: %v", line, family, err))
			}
			continue
		}
		k := key{labels["group"], labels["version"], labels["resource"], labels["subresource"]}
		if family == metricRequests {
			haveReqs = true
			if value > 0 && value < math.MaxInt64 {
				counts[k] += int64(value)
			}
			continue
		}
		if value == 0 {
			continue
		}
		out = append(out, tracker.RequestEvidence{Group: k.group, Version: k.version, Resource: k.resource,
			Subresource: k.subresource, RemovedRelease: labels["removed_release"]})
	}
	if err := sc.Err(); err != nil {
		problems = append(problems, fmt.Sprintf("line %d: %v", line+1, err))
	}
	for i := range out {
		out[i].Count = -1
		if haveReqs {
			out[i].Count = counts[key{out[i].Group, out[i].Version, out[i].Resource, out[i].Subresource}]
		}
	}
	return out, problems
}

// parseSample parses one sample line of family with the Prometheus text
// parser (typed untyped, so gauge and counter samples read alike).
func parseSample(family string, line []byte) (map[string]string, float64, error) {
	doc := make([]byte, 0, len(line)+len(family)+20)
	doc = append(append(append(doc, "# TYPE "...), family...), " untyped\n"...)
	doc = append(append(doc, line...), '\n')
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(doc))
	if err != nil {
		// The parser counts lines of doc; the caller names the real line.
		msg := err.Error()
		if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "text format parsing error in line") {
			msg = msg[i+2:]
		}
		return nil, 0, errors.New(msg)
	}
	mf := fams[family]
	if mf == nil || len(mf.GetMetric()) != 1 {
		return nil, 0, errors.New("no sample")
	}
	m := mf.GetMetric()[0]
	labels := make(map[string]string, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	return labels, m.GetUntyped().GetValue(), nil
}

func isNameEnd(s []byte, i int) bool {
	return i == len(s) || s[i] == '{' || s[i] == ' ' || s[i] == '\t'
}
