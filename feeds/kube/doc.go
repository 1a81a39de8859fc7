// Package kube reads live clusters through their kubeconfig contexts: the
// control-plane version from /version and every node's kubelet, kube-proxy and
// container-runtime versions from the node list, as tracker.Cluster values.
//
// Credentials are whatever the kubeconfig says, resolved by client-go exactly
// as kubectl would (tokens, client certificates, exec credential plugins,
// proxies). Clusters are read concurrently with a deadline each; one cluster
// that cannot be read is reported in its Cluster.Error and never stops the
// others. Error texts name the context, the server host and what failed, and
// never carry tokens or certificate data.
//
// The distribution is detected from the control-plane version's suffix
// (v1.27.3-eks-…, +k3s1 …). Some managed control planes report a plain
// upstream version while their nodes carry the provider suffix; then the first
// node's kubelet version decides.
package kube
