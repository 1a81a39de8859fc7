// Package server serves kubedrift's HTTP endpoints (health, readiness,
// Prometheus metrics and the pending-upgrades API) and guards a store with a
// single-instance lock so two services never sync into the same file.
package server
