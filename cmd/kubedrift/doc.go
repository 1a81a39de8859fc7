// Command kubedrift tells a platform team how far each Kubernetes cluster has
// drifted from upstream and what stands between it and the next safe version.
//
// This package is the thin outer layer: flags, configuration, wiring of feeds,
// store and notifiers, and output formatting. One file per subcommand.
package main
