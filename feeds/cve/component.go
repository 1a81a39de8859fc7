package cve

import (
	"strings"

	"github.com/kubedrift/kubedrift/tracker"
)

type componentMapping struct {
	component string
	tracked   bool
}

// components maps the OSV package names Kubernetes uses to the component a
// cluster runs. Each entry is a decision, made against the names present in
// kubernetes-sigs/cve-feed-osv:
//
//	package                               component                tracked  why
//	k8s.io/apiserver                      kube-apiserver           yes      the library is the API server's core; upstream files API server flaws under it
//	k8s.io/kube-apiserver                 kube-apiserver           yes      the binary's own name
//	k8s.io/kubelet                        kubelet                  yes      node agent, versioned with the release
//	k8s.io/kube-proxy                     kube-proxy               yes      node component, versioned with the release
//	k8s.io/controller-manager             kube-controller-manager  yes      shared controller-manager library; the records name kube-controller-manager flaws
//	k8s.io/kube-controller-manager        kube-controller-manager  yes      the binary's own name
//	k8s.io/kube-scheduler                 kube-scheduler           yes      the binary's own name
//	k8s.io/kubectl                        kubectl                  yes      client, released with Kubernetes; kubedrift tracks it as a component
//	k8s.io/kubernetes                     kubernetes               yes      the release as a whole (the monorepo): every component built from it is in range
//	k8s.io/client-go                      client-go                no       a library compiled into other programs, not something a cluster reports
//	k8s.io/cloud-controller-manager       cloud-controller-manager no       provider-built and versioned by the provider
//	k8s.io/ingress-nginx                  ingress-nginx            no       add-on with its own version line
//	github.com/kubernetes-csi/csi-proxy   csi-proxy                no       Windows node add-on with its own version line
//	sigs.k8s.io/secrets-store-csi-driver  secrets-store-csi-driver no       add-on with its own version line
//	sigs.k8s.io/azurefile-csi-driver      azurefile-csi-driver     no       add-on with its own version line
//	k8s.io/kube-state-metrics             kube-state-metrics       no       add-on with its own version line
//
// Any other package is kept untracked under the last element of its path, so
// that a new add-on appearing upstream is reported rather than dropped.
var components = map[string]componentMapping{
	"k8s.io/apiserver":                     {tracker.ComponentAPIServer, true},
	"k8s.io/kube-apiserver":                {tracker.ComponentAPIServer, true},
	"k8s.io/kubelet":                       {tracker.ComponentKubelet, true},
	"k8s.io/kube-proxy":                    {tracker.ComponentKubeProxy, true},
	"k8s.io/controller-manager":            {tracker.ComponentControllerManager, true},
	"k8s.io/kube-controller-manager":       {tracker.ComponentControllerManager, true},
	"k8s.io/kube-scheduler":                {tracker.ComponentScheduler, true},
	"k8s.io/kubectl":                       {tracker.ComponentKubectl, true},
	"k8s.io/kubernetes":                    {tracker.ComponentKubernetes, true},
	"k8s.io/client-go":                     {"client-go", false},
	"k8s.io/cloud-controller-manager":      {"cloud-controller-manager", false},
	"k8s.io/ingress-nginx":                 {"ingress-nginx", false},
	"github.com/kubernetes-csi/csi-proxy":  {"csi-proxy", false},
	"sigs.k8s.io/secrets-store-csi-driver": {"secrets-store-csi-driver", false},
	"sigs.k8s.io/azurefile-csi-driver":     {"azurefile-csi-driver", false},
	"k8s.io/kube-state-metrics":            {"kube-state-metrics", false},
}

// ComponentOf maps an OSV package name to the cluster component it affects
// and reports whether kubedrift tracks that component on clusters. Unknown
// packages map to the last element of their path, untracked; an empty name
// maps to "".
func ComponentOf(pkg string) (component string, tracked bool) {
	pkg = strings.TrimSpace(pkg)
	if m, ok := components[pkg]; ok {
		return m.component, m.tracked
	}
	name := strings.TrimSuffix(pkg, "/")
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return name, false
}
