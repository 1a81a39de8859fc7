// Package removals holds kubedrift's curated table of concrete Kubernetes
// removals (API versions, admission plugins, flags, feature gates, node-level
// dependencies, metrics, volume plugins) as an embedded, versioned YAML file.
// It only exposes the bytes and a parser: callers decode the table where they
// need it, so no package holds a global copy.
package removals
