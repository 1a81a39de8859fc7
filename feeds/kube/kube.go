package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubedrift/kubedrift/tracker"
)

// Defaults for the zero values of Options.
const (
	DefaultConcurrency       = 8
	DefaultTimeout           = 15 * time.Second
	DefaultPageSize    int64 = 500
	// UserAgent identifies kubedrift in API server audit logs.
	UserAgent = "kubedrift"
)

// Client-side rate limits per cluster. A cluster costs one request plus one
// per page of nodes, so these only matter for very large clusters; they keep
// kubedrift a polite client of a busy API server.
const (
	clusterQPS   = 20
	clusterBurst = 40
)

// PoolLabels are the node labels that name a node pool, most specific first.
// Only labels that group nodes into pools are listed (not instance types or
// zones).
var PoolLabels = []string{
	"eks.amazonaws.com/nodegroup",
	"alpha.eksctl.io/nodegroup-name",
	"karpenter.sh/nodepool",
	"cloud.google.com/gke-nodepool",
	"kubernetes.azure.com/agentpool",
	"agentpool", // AKS before the kubernetes.azure.com labels
	"doks.digitalocean.com/node-pool",
}

// Options selects kubeconfig files and contexts and bounds the work.
type Options struct {
	// Kubeconfig lists explicit files, merged in order like kubectl's
	// KUBECONFIG; each must exist. Empty means client-go's default rules:
	// $KUBECONFIG (several files joined by the OS list separator), then
	// ~/.kube/config.
	Kubeconfig []string
	// Contexts selects contexts by name, in the order given. Empty (and
	// !AllContexts) selects the current-context.
	Contexts []string
	// AllContexts selects every context, sorted by name.
	AllContexts bool
	// Concurrency bounds how many clusters are read at once (default 8).
	Concurrency int
	// Timeout bounds the whole read of one cluster: /version and every page
	// of nodes (default 15s).
	Timeout time.Duration
	// PageSize is the node list limit per request (default 500).
	PageSize int64
	// Now stamps ObservedAt (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// kubeconfig is the merged kubeconfig and the rules it came from.
type kubeconfig struct {
	rules *clientcmd.ClientConfigLoadingRules
	raw   *clientcmdapi.Config
}

func (k kubeconfig) files() string {
	return strings.Join(k.rules.GetLoadingPrecedence(), ", ")
}

func load(opt Options) (kubeconfig, error) {
	var rules *clientcmd.ClientConfigLoadingRules
	if len(opt.Kubeconfig) > 0 {
		// client-go skips missing files in a precedence list; a file the user
		// named explicitly must exist.
		for _, f := range opt.Kubeconfig {
			if _, err := os.Stat(f); err != nil {
				return kubeconfig{}, fmt.Errorf("kube: kubeconfig %s: %w", f, err)
			}
		}
		rules = &clientcmd.ClientConfigLoadingRules{Precedence: slices.Clone(opt.Kubeconfig)}
	} else {
		rules = clientcmd.NewDefaultClientConfigLoadingRules()
	}
	raw, err := rules.Load()
	if err != nil {
		// client-go's message names the file that failed.
		return kubeconfig{}, fmt.Errorf("kube: load kubeconfig: %w", err)
	}
	k := kubeconfig{rules: rules, raw: raw}
	if len(raw.Contexts) == 0 {
		return kubeconfig{}, fmt.Errorf("kube: no kubeconfig contexts found (looked in %s)", k.files())
	}
	return k, nil
}

// Contexts lists the context names available in the selected kubeconfig
// files, sorted.
func Contexts(opt Options) ([]string, error) {
	k, err := load(opt)
	if err != nil {
		return nil, err
	}
	return sortedContexts(k.raw), nil
}

func sortedContexts(raw *clientcmdapi.Config) []string {
	names := make([]string, 0, len(raw.Contexts))
	for n := range raw.Contexts {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (k kubeconfig) selectContexts(opt Options) ([]string, error) {
	switch {
	case opt.AllContexts:
		return sortedContexts(k.raw), nil
	case len(opt.Contexts) > 0:
		var names []string
		for _, n := range opt.Contexts {
			if _, ok := k.raw.Contexts[n]; !ok {
				return nil, fmt.Errorf("kube: context %q not found in kubeconfig (%s); available: %s", n, k.files(), strings.Join(sortedContexts(k.raw), ", "))
			}
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		return names, nil
	}
	cur := k.raw.CurrentContext
	if cur == "" {
		return nil, fmt.Errorf("kube: no current-context set in kubeconfig (%s); select contexts or all contexts", k.files())
	}
	if _, ok := k.raw.Contexts[cur]; !ok {
		return nil, fmt.Errorf("kube: current-context %q not found in kubeconfig (%s)", cur, k.files())
	}
	return []string{cur}, nil
}

// Discover reads every selected context's cluster. It returns exactly one
// Cluster per selected context, in the order of the contexts, with Name the
// context name and Source "kubeconfig:<context>". A cluster that cannot be read
// (unreachable, rejected credentials, missing permission, timeout, failing
// credential plugin) has Error set and keeps whatever was read before the
// failure; the others are unaffected.
//
// The returned error is only for problems with the whole run: no kubeconfig,
// a malformed kubeconfig file, an unknown context name, or ctx ending (then
// the clusters are returned too, the unread ones with Error set).
func Discover(ctx context.Context, opt Options) ([]tracker.Cluster, error) {
	opt = opt.withDefaults()
	k, err := load(opt)
	if err != nil {
		return nil, err
	}
	names, err := k.selectContexts(opt)
	if err != nil {
		return nil, err
	}
	out := make([]tracker.Cluster, len(names))
	sem := make(chan struct{}, opt.Concurrency)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i] = tracker.Cluster{Name: name, Source: "kubeconfig:" + name, ObservedAt: opt.Now().UTC(),
					Error: fmt.Sprintf("context %q: not read: %v", name, ctx.Err())}
				return
			}
			defer func() { <-sem }()
			out[i] = k.read(ctx, name, opt)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("kube: discover clusters: %w", err)
	}
	return out, nil
}

// read reads one context's cluster; failures land in Cluster.Error.
func (k kubeconfig) read(ctx context.Context, name string, opt Options) (c tracker.Cluster) {
	c = tracker.Cluster{Name: name, Source: "kubeconfig:" + name}
	defer func() { c.ObservedAt = opt.Now().UTC() }()

	cfg, secrets, err := k.restConfig(name, opt)
	if err != nil {
		c.Error = strings.TrimPrefix(err.Error(), "kube: ")
		return c
	}
	server := hostOf(cfg.Host)
	fail := func(op string, err error, cctx context.Context) tracker.Cluster {
		msg := fmt.Sprintf("context %q (server %s): %s: %s", name, server, op, reason(err, cctx, opt.Timeout))
		if apierrors.IsUnauthorized(err) && !rest.IsConfigTransportTLS(*cfg) {
			msg += " (client-go sends credentials only over https; the server URL is plain http)"
		}
		c.Error = redact(msg, secrets)
		return c
	}

	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return fail("set up client", err, ctx)
	}
	disc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, hc)
	if err != nil {
		return fail("set up client", err, ctx)
	}
	core, err := corev1client.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return fail("set up client", err, ctx)
	}

	cctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	v, err := serverVersion(cctx, disc)
	if err != nil {
		return fail("read server version", err, cctx)
	}
	c.Version = v
	c.ControlPlaneVersions = []string{v}
	c.Distribution = distribution(v, nil)
	nodes, err := listNodes(cctx, core, opt.PageSize)
	if err != nil {
		return fail("list nodes", err, cctx)
	}
	c.Nodes = nodes
	c.Distribution = distribution(v, nodes)
	return c
}

// serverVersion is discovery's ServerVersion with a context, so the
// per-cluster deadline covers it.
func serverVersion(ctx context.Context, disc *discovery.DiscoveryClient) (string, error) {
	body, err := disc.RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return "", err
	}
	var info version.Info
	if err := json.Unmarshal(body, &info); err != nil {
		return "", fmt.Errorf("decode /version response: %w", err)
	}
	if info.GitVersion == "" {
		return "", errors.New("/version response has no gitVersion")
	}
	return info.GitVersion, nil
}

// listNodes pages through the node list, keeping only the fields kubedrift
// needs so that a 5,000-node cluster costs little more than one page of
// decoded objects. The typed client asks for protobuf (falling back to JSON),
// which decodes node lists several times faster; leave AcceptContentTypes
// unset so it keeps doing so.
func listNodes(ctx context.Context, core corev1client.CoreV1Interface, pageSize int64) ([]tracker.Node, error) {
	var out []tracker.Node
	opts := metav1.ListOptions{Limit: pageSize}
	restarted := false
	for {
		list, err := core.Nodes().List(ctx, opts)
		if err != nil {
			if apierrors.IsResourceExpired(err) && opts.Continue != "" && !restarted {
				// The continue token outlived the server's compaction window:
				// start over once rather than report a partial list.
				restarted, out, opts.Continue = true, out[:0], ""
				continue
			}
			return nil, err
		}
		if out == nil {
			n := int64(len(list.Items))
			if r := list.RemainingItemCount; r != nil && *r > 0 && *r < 1<<20 {
				n += *r
			}
			out = make([]tracker.Node, 0, n)
		}
		for i := range list.Items {
			out = append(out, nodeOf(&list.Items[i]))
		}
		if list.Continue == "" {
			return out, nil
		}
		if list.Continue == opts.Continue {
			return nil, fmt.Errorf("server returned the same continue token twice after %d nodes", len(out))
		}
		opts.Continue = list.Continue
	}
}

func nodeOf(n *corev1.Node) tracker.Node {
	// Clone so the small strings kept do not pin a decoded page in memory
	// (a decoder may hand out substrings of its buffer).
	info := &n.Status.NodeInfo
	return tracker.Node{
		Name:             strings.Clone(n.Name),
		KubeletVersion:   strings.Clone(info.KubeletVersion),
		KubeProxyVersion: strings.Clone(info.KubeProxyVersion),
		ContainerRuntime: strings.Clone(info.ContainerRuntimeVersion),
		Pool:             strings.Clone(poolOf(n.Labels)),
	}
}

func poolOf(labels map[string]string) string {
	for _, l := range PoolLabels {
		if p := labels[l]; p != "" {
			return p
		}
	}
	return ""
}

// distribution detects the distribution from the control-plane version and,
// when that has no suffix, from the first node's kubelet version.
func distribution(cp string, nodes []tracker.Node) string {
	v, err := tracker.ParseVersion(cp)
	if err != nil {
		return tracker.DistOther
	}
	if v.Distribution == tracker.DistVanilla && len(nodes) > 0 {
		if nv, err := tracker.ParseVersion(nodes[0].KubeletVersion); err == nil {
			return nv.Distribution
		}
	}
	return v.Distribution
}

// reason turns a client error into a short explanation.
func reason(err error, cctx context.Context, timeout time.Duration) string {
	var netErr net.Error
	switch {
	case errors.Is(cctx.Err(), context.DeadlineExceeded),
		errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("timed out after %s", timeout)
	case errors.Is(err, context.Canceled):
		return "canceled"
	case apierrors.IsUnauthorized(err):
		return fmt.Sprintf("unauthorized (HTTP 401), the credentials were rejected: %v", err)
	case apierrors.IsForbidden(err):
		return fmt.Sprintf("forbidden (HTTP 403), kubedrift needs get on /version and list on nodes: %v", err)
	}
	return err.Error()
}

// hostOf returns the host:port of a server URL, without user info or path.
func hostOf(server string) string {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		if i := strings.LastIndex(server, "@"); i >= 0 {
			server = server[i+1:]
		}
		return server
	}
	return u.Host
}

// secretsOf collects the credential strings of a context that must never
// appear in an error message.
func secretsOf(raw *clientcmdapi.Config, name string, cfg *rest.Config) []string {
	var s []string
	if ctx, ok := raw.Contexts[name]; ok {
		if ai, ok := raw.AuthInfos[ctx.AuthInfo]; ok {
			s = append(s, ai.Token, ai.Password)
			if ai.Exec != nil {
				for _, e := range ai.Exec.Env {
					s = append(s, e.Value)
				}
			}
			if ai.AuthProvider != nil {
				for _, v := range ai.AuthProvider.Config {
					s = append(s, v)
				}
			}
		}
		if cl, ok := raw.Clusters[ctx.Cluster]; ok {
			if u, err := url.Parse(cl.Server); err == nil && u.User != nil {
				p, _ := u.User.Password()
				s = append(s, p, u.User.String())
			}
		}
	}
	if cfg != nil {
		s = append(s, cfg.BearerToken, cfg.Password)
	}
	return s
}

// redact removes secrets from msg. Very short values are skipped: replacing
// them would mangle the message without protecting anything.
func redact(msg string, secrets []string) string {
	for _, s := range secrets {
		if len(s) >= 6 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}
