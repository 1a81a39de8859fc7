// Package inventory reads a static YAML inventory of clusters that kubedrift
// cannot reach over the network (air-gapped sites, clusters owned by other
// teams), so they are reported next to live ones.
//
// The file lists clusters with their control-plane version and, optionally,
// node pools with counts or explicit nodes:
//
//	clusters:
//	  - name: prod-eu
//	    distribution: eks          # optional; else detected from version
//	    version: v1.24.3-eks-abc   # control plane
//	    nodes:
//	      - pool: general
//	        version: v1.23.9-eks-abc
//	        count: 12
//	        kube_proxy: v1.23.9          # optional
//	        runtime: containerd://1.6.8  # optional
//	      - name: gpu-0                  # an explicit node
//	        version: v1.24.3-eks-abc
//	    labels: {env: prod, team: payments}
//
// Parsing is strict (unknown keys are errors) and every problem is reported with
// its file and line. Valid clusters are returned even when others are not, so a
// single typo does not hide the rest of a fleet.
package inventory
