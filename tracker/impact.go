package tracker

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// RemovalKind says what sort of thing a Removal removes.
type RemovalKind string

// Removal kinds of the curated table (data/removals).
const (
	RemovalAPI             RemovalKind = "api"
	RemovalAdmissionPlugin RemovalKind = "admission-plugin"
	RemovalFlag            RemovalKind = "flag"
	RemovalFeatureGate     RemovalKind = "feature-gate"
	RemovalNodeDependency  RemovalKind = "node-dependency"
	RemovalMetric          RemovalKind = "metric"
	RemovalVolumePlugin    RemovalKind = "volume-plugin"
)

// RemovalKinds lists every RemovalKind, for validation.
var RemovalKinds = []RemovalKind{
	RemovalAPI, RemovalAdmissionPlugin, RemovalFlag, RemovalFeatureGate,
	RemovalNodeDependency, RemovalMetric, RemovalVolumePlugin,
}

// SourceCurated marks a Removal whose note is not in the parsed changelogs
// kubedrift ships with; it is exempt from the check against parsed notes.
const SourceCurated = "curated"

// Removal is one concrete thing upstream stops serving or supporting: an API
// group/version of a resource, an admission plugin, a flag, a feature gate, a
// node-level dependency. It holds facts only (names, versions, PR numbers).
type Removal struct {
	// Subject names it as people say it: "policy/v1beta1 PodSecurityPolicy".
	Subject string      `json:"subject"`
	Kind    RemovalKind `json:"kind"`
	// Group, Version and Resource (plural) locate a removed API; an
	// admission plugin tied to an API (PodSecurityPolicy) carries them too so
	// that stored objects count as evidence of use.
	Group    string `json:"group,omitempty"`
	Version  string `json:"version,omitempty"`
	Resource string `json:"resource,omitempty"`
	// Runtime is the container runtime scheme ("docker") a node dependency
	// needs; nodes reporting "<runtime>://..." depend on it.
	Runtime string `json:"runtime,omitempty"`
	// DeprecatedIn and RemovedIn are minors ("1.21").
	DeprecatedIn string `json:"deprecated_in,omitempty"`
	RemovedIn    string `json:"removed_in"`
	// Replacement is what to use instead; for APIs "group/version Kind".
	Replacement string `json:"replacement,omitempty"`
	// SourcePR is the kubernetes/kubernetes PR of the note that removes it.
	SourcePR int `json:"source_pr,omitempty"`
	// Source is SourceCurated when the removing note is outside the shipped
	// changelogs.
	Source    string `json:"source,omitempty"`
	Component string `json:"component,omitempty"`
}

// GroupVersion is the API path form: "policy/v1beta1", or "v1" for the core
// group; "" when the removal names no API.
func (r Removal) GroupVersion() string {
	switch {
	case r.Version == "":
		return ""
	case r.Group == "":
		return r.Version
	}
	return r.Group + "/" + r.Version
}

// GroupResource is "podsecuritypolicies.policy", the form RBAC and API errors
// use.
func (r Removal) GroupResource() string {
	if r.Group == "" {
		return r.Resource
	}
	return r.Resource + "." + r.Group
}

// Validate checks one entry's fields.
func (r Removal) Validate() error {
	var bad []string
	if strings.TrimSpace(r.Subject) == "" {
		bad = append(bad, "subject is empty")
	}
	if !slices.Contains(RemovalKinds, r.Kind) {
		bad = append(bad, fmt.Sprintf("kind %q is not one of %v", r.Kind, RemovalKinds))
	}
	rm, err := ParseMinor(r.RemovedIn)
	if err != nil {
		bad = append(bad, fmt.Sprintf("removed_in: %v", err))
	}
	if r.DeprecatedIn != "" {
		dm, err := ParseMinor(r.DeprecatedIn)
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("deprecated_in: %v", err))
		case rm != (Minor{}) && dm.Compare(rm) > 0:
			bad = append(bad, fmt.Sprintf("deprecated_in %s is after removed_in %s", r.DeprecatedIn, r.RemovedIn))
		}
	}
	if r.Kind == RemovalAPI && (r.Version == "" || r.Resource == "") {
		bad = append(bad, "an api removal needs version and resource")
	}
	if r.Resource != "" && r.Resource != strings.ToLower(r.Resource) {
		bad = append(bad, fmt.Sprintf("resource %q must be the lower-case plural", r.Resource))
	}
	if r.Kind == RemovalNodeDependency && r.Runtime == "" && r.Resource == "" && r.Source != SourceCurated {
		// Nothing observable: fine only for curated entries documented as such.
		bad = append(bad, "a node-dependency needs runtime (or is curated)")
	}
	if r.SourcePR < 0 {
		bad = append(bad, "source_pr is negative")
	}
	if r.SourcePR == 0 && r.Source != SourceCurated {
		bad = append(bad, "source_pr is required unless source is curated")
	}
	if r.Source != "" && r.Source != SourceCurated {
		bad = append(bad, fmt.Sprintf("source %q: only %q is allowed", r.Source, SourceCurated))
	}
	if len(bad) > 0 {
		return fmt.Errorf("removal %q: %s", r.Subject, strings.Join(bad, "; "))
	}
	return nil
}

// Verdict statuses, in the order reports list them.
const (
	StatusBlocker = "blocker"
	StatusUnknown = "unknown"
	StatusClear   = "clear"
)

// Evidence is what a live cluster showed about the removals ahead of it, read
// with get/list permissions only. A check that could not run leaves its
// ...Unknown field set to why (e.g. "forbidden: get /metrics"), and every
// verdict depending on it becomes unknown rather than clear.
type Evidence struct {
	// ServerVersion is the API server's version as reported.
	ServerVersion string `json:"server_version,omitempty"`
	// APIs has one entry per removed group/version/resource that was looked
	// up in discovery.
	APIs []APIEvidence `json:"apis,omitempty"`
	// Requests are the deprecated APIs clients called, from the API server's
	// apiserver_requested_deprecated_apis metric.
	Requests []RequestEvidence `json:"requests,omitempty"`
	// RequestsWindow is the time the request metric covers.
	RequestsWindow string `json:"requests_window,omitempty"`
	// RequestsUnknown is set when the metric could not be read.
	RequestsUnknown string `json:"requests_unknown,omitempty"`
	// Runtimes group nodes by container runtime version.
	Runtimes []RuntimeEvidence `json:"runtimes,omitempty"`
	// RuntimesUnknown is set when nodes could not be listed.
	RuntimesUnknown string `json:"runtimes_unknown,omitempty"`
}

// APIEvidence is what discovery and a metadata-only list showed for one
// removed API.
type APIEvidence struct {
	Group    string `json:"group"`
	Version  string `json:"version"`
	Resource string `json:"resource"`
	// Served reports whether discovery lists the resource in that version.
	Served bool `json:"served"`
	// Objects counts the objects listed through that version (only when
	// served and listed); Examples names the first few ("ns/name").
	Objects  int      `json:"objects"`
	Examples []string `json:"examples,omitempty"`
	// Unknown says why discovery or the list failed; Served and Objects are
	// then meaningless.
	Unknown string `json:"unknown,omitempty"`
}

// RequestEvidence is one sample of apiserver_requested_deprecated_apis,
// with the request count from apiserver_request_total when exposed.
type RequestEvidence struct {
	Group          string `json:"group"`
	Version        string `json:"version"`
	Resource       string `json:"resource"`
	Subresource    string `json:"subresource,omitempty"`
	RemovedRelease string `json:"removed_release,omitempty"`
	// Count is the number of requests, -1 when only the "requested" flag is
	// known.
	Count int64 `json:"count"`
}

// RuntimeEvidence counts nodes with one container runtime version
// ("docker://20.10.7").
type RuntimeEvidence struct {
	Runtime  string   `json:"runtime"`
	Nodes    int      `json:"nodes"`
	Examples []string `json:"examples,omitempty"`
}

// Verdict says whether one removal blocks one upgrade step of a cluster.
type Verdict struct {
	Subject   string      `json:"subject"`
	Kind      RemovalKind `json:"kind"`
	RemovedIn string      `json:"removed_in"`
	// Status is StatusBlocker, StatusClear or StatusUnknown.
	Status string `json:"status"`
	// Detail is the advisory sentence: "3 PodSecurityPolicies still exist;
	// migrate before 1.25".
	Detail   string   `json:"detail"`
	Examples []string `json:"examples,omitempty"`
	// Reason says why the status is unknown, naming the missing permission
	// when that is the cause.
	Reason   string `json:"reason,omitempty"`
	SourcePR int    `json:"source_pr,omitempty"`
}

// StepVerdicts are the verdicts of the removals one upgrade step crosses.
type StepVerdicts struct {
	From     string    `json:"from"`
	To       string    `json:"to"`
	Verdicts []Verdict `json:"verdicts"`
}

// Blockers counts the blocker verdicts.
func (s StepVerdicts) Blockers() int {
	n := 0
	for _, v := range s.Verdicts {
		if v.Status == StatusBlocker {
			n++
		}
	}
	return n
}

// Verdicts judges, for each step of path (same order), every removal whose
// RemovedIn minor the step crosses (after From's minor, up to To's), against
// the cluster's evidence. Within a step, blockers come first, then unknown,
// then clear, each in the order of rs. Steps whose versions do not parse get
// no verdicts.
func Verdicts(rs []Removal, path []Step, ev Evidence) []StepVerdicts {
	out := make([]StepVerdicts, 0, len(path))
	for _, s := range path {
		sv := StepVerdicts{From: s.From, To: s.To, Verdicts: []Verdict{}}
		from, err1 := ParseVersion(s.From)
		to, err2 := ParseVersion(s.To)
		if err1 == nil && err2 == nil {
			for _, r := range rs {
				m, err := ParseMinor(r.RemovedIn)
				if err != nil || m.Compare(from.MinorVersion()) <= 0 || m.Compare(to.MinorVersion()) > 0 {
					continue
				}
				sv.Verdicts = append(sv.Verdicts, Judge(r, ev))
			}
		}
		slices.SortStableFunc(sv.Verdicts, func(a, b Verdict) int { return statusRank(a.Status) - statusRank(b.Status) })
		out = append(out, sv)
	}
	return out
}

func statusRank(s string) int {
	switch s {
	case StatusBlocker:
		return 0
	case StatusUnknown:
		return 1
	}
	return 2
}

// Judge gives one removal's verdict from the evidence.
func Judge(r Removal, ev Evidence) Verdict {
	v := Verdict{Subject: r.Subject, Kind: r.Kind, RemovedIn: r.RemovedIn, SourcePR: r.SourcePR}
	switch {
	case r.Resource != "":
		judgeAPI(&v, r, ev)
	case r.Kind == RemovalNodeDependency && r.Runtime != "":
		judgeRuntime(&v, r, ev)
	default:
		v.Status = StatusUnknown
		v.Reason = fmt.Sprintf("kubedrift cannot read %s configuration through the Kubernetes API", componentOr(r.Component, "component"))
		v.Detail = fmt.Sprintf("%s is removed in %s; check your %s configuration before upgrading", r.Subject, r.RemovedIn, componentOr(r.Component, "component"))
	}
	return v
}

func componentOr(c, def string) string {
	if c == "" {
		return def
	}
	return c
}

func judgeAPI(v *Verdict, r Removal, ev Evidence) {
	var api *APIEvidence
	for i := range ev.APIs {
		a := &ev.APIs[i]
		if a.Group == r.Group && a.Version == r.Version && a.Resource == r.Resource {
			api = a
			break
		}
	}
	kind := kindOf(r.Subject, r.Resource)
	// Stored objects block only when nothing serves them after the removal;
	// objects of a resource with a same-kind replacement API are converted
	// and served through it, so there only client requests matter.
	objectsBlock := !sameKindReplacement(r.Replacement, kind)
	var reqs int64
	requested := false
	for _, q := range ev.Requests {
		if q.Group == r.Group && q.Version == r.Version && q.Resource == r.Resource {
			requested = true
			if q.Count > 0 {
				reqs += q.Count
			}
		}
	}
	gv := r.GroupVersion()
	switch {
	case api != nil && api.Unknown == "" && api.Served && api.Objects > 0 && objectsBlock:
		v.Status = StatusBlocker
		v.Detail = fmt.Sprintf("%s still exist; migrate before %s", plural(api.Objects, kind), r.RemovedIn)
		if api.Objects == 1 {
			v.Detail = fmt.Sprintf("1 %s still exists; migrate before %s", kind, r.RemovedIn)
		}
		if r.Replacement != "" {
			v.Detail += " (replacement: " + r.Replacement + ")"
		}
		v.Examples = slices.Clone(api.Examples)
		return
	case requested:
		v.Status = StatusBlocker
		count := ""
		if reqs > 0 {
			count = " (" + strconv.FormatInt(reqs, 10) + " requests)"
		}
		v.Detail = fmt.Sprintf("clients called %s %s %s%s; update them", gv, r.Resource, windowOr(ev.RequestsWindow), count)
		if r.Replacement != "" {
			v.Detail += " to " + r.Replacement
		}
		v.Detail += " before " + r.RemovedIn
		return
	}
	var why []string
	if api == nil {
		why = append(why, "not looked up in discovery")
	} else if api.Unknown != "" {
		why = append(why, api.Unknown)
	}
	if ev.RequestsUnknown != "" {
		why = append(why, ev.RequestsUnknown)
	}
	// Not served at all: no object or client can be using it.
	if api != nil && api.Unknown == "" && !api.Served {
		v.Status = StatusClear
		v.Detail = fmt.Sprintf("%s %s is not served by this cluster", gv, r.Resource)
		return
	}
	// Objects unknown matter only when they would block; requests unknown
	// always leave a doubt.
	if (api == nil || api.Unknown != "") && objectsBlock || ev.RequestsUnknown != "" {
		v.Status = StatusUnknown
		v.Reason = strings.Join(why, "; ")
		v.Detail = fmt.Sprintf("could not check %s %s: %s", gv, r.Resource, v.Reason)
		return
	}
	v.Status = StatusClear
	if objectsBlock {
		v.Detail = fmt.Sprintf("no %s exist and no client called %s %s", pluralNoun(kind), gv, windowOr(ev.RequestsWindow))
	} else {
		v.Detail = fmt.Sprintf("no client called %s %s %s", gv, r.Resource, windowOr(ev.RequestsWindow))
	}
}

func windowOr(w string) string {
	if w == "" {
		return "in the metric's window"
	}
	return w
}

func judgeRuntime(v *Verdict, r Removal, ev Evidence) {
	if ev.RuntimesUnknown != "" {
		v.Status = StatusUnknown
		v.Reason = ev.RuntimesUnknown
		v.Detail = fmt.Sprintf("could not read node container runtimes: %s", ev.RuntimesUnknown)
		return
	}
	prefix := r.Runtime + "://"
	nodes, unknown, total := 0, 0, 0
	var runtimes, examples []string
	for _, rt := range ev.Runtimes {
		total += rt.Nodes
		if rt.Runtime == "unknown://" {
			unknown += rt.Nodes
			continue
		}
		if !strings.HasPrefix(rt.Runtime, prefix) {
			continue
		}
		nodes += rt.Nodes
		runtimes = append(runtimes, rt.Runtime)
		for _, e := range rt.Examples {
			if len(examples) < maxExamples {
				examples = append(examples, e)
			}
		}
	}
	// "Clear" needs every node's runtime: a node that reports none (or no
	// nodes known at all) leaves the question open.
	switch {
	case nodes == 0 && total == 0:
		v.Status = StatusUnknown
		v.Reason = "no nodes known"
		v.Detail = "no nodes known: cannot tell which container runtimes run"
		return
	case nodes == 0 && unknown > 0:
		v.Status = StatusUnknown
		v.Reason = "container runtime not reported"
		v.Detail = fmt.Sprintf("%s report no container runtime", plural(unknown, "node"))
		return
	case nodes == 0:
		v.Status = StatusClear
		v.Detail = fmt.Sprintf("no node runs a %s runtime", r.Runtime)
		return
	}
	v.Status = StatusBlocker
	v.Detail = fmt.Sprintf("%s run %s (%s); switch them", plural(nodes, "node"), r.Subject, strings.Join(runtimes, ", "))
	if r.Replacement != "" {
		v.Detail += " to " + r.Replacement
	}
	v.Detail += " before " + r.RemovedIn
	v.Examples = examples
}

// maxExamples bounds the names a verdict carries.
const maxExamples = 3

// kindOf takes the Kind from a subject "group/version Kind" or "Kind",
// falling back to the resource name.
func kindOf(subject, resource string) string {
	f := strings.Fields(subject)
	switch {
	case len(f) == 1:
		return f[0]
	case len(f) >= 2 && strings.Contains(f[0], "/"):
		return f[len(f)-1]
	}
	return resource
}

// sameKindReplacement reports whether replacement is "group/version Kind" of
// the same Kind.
func sameKindReplacement(replacement, kind string) bool {
	f := strings.Fields(replacement)
	return len(f) == 2 && (strings.Contains(f[0], "/") || strings.HasPrefix(f[0], "v")) && f[1] == kind
}

// plural formats "3 PodSecurityPolicies".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + pluralNoun(noun)
}

func pluralNoun(noun string) string {
	switch {
	case strings.HasSuffix(noun, "y") && !strings.HasSuffix(noun, "ay") && !strings.HasSuffix(noun, "ey"):
		noun = noun[:len(noun)-1] + "ies"
	case strings.HasSuffix(noun, "s") || strings.HasSuffix(noun, "x") || strings.HasSuffix(noun, "ch"):
		noun += "es"
	default:
		noun += "s"
	}
	return noun
}

// impactExamples bounds the node names kept per runtime.
const impactExamples = 3

// RuntimesOf groups nodes by container runtime version, in order of first
// appearance; nodes that report none count as "unknown://".
func RuntimesOf(nodes []Node) []RuntimeEvidence {
	var out []RuntimeEvidence
	idx := map[string]int{}
	for _, n := range nodes {
		rt := n.ContainerRuntime
		if rt == "" {
			rt = "unknown://"
		}
		i, ok := idx[rt]
		if !ok {
			i = len(out)
			idx[rt] = i
			out = append(out, RuntimeEvidence{Runtime: rt})
		}
		out[i].Nodes++
		if len(out[i].Examples) < impactExamples {
			out[i].Examples = append(out[i].Examples, n.Name)
		}
	}
	return out
}

// StaticEvidence is what a cluster known only from an inventory shows: its
// nodes' runtimes; API use cannot be checked without an API server.
func StaticEvidence(c Cluster) Evidence {
	const why = "static inventory: no API server to ask"
	return Evidence{ServerVersion: c.Version, Runtimes: RuntimesOf(c.Nodes), RequestsUnknown: why}
}
