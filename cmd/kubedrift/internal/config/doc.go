// Package config reads the kubedrift service configuration file: which
// clusters to watch, where upstream lives, when each job runs, and which
// channels hear about which advisories.
//
// Parse is strict and reports every problem at once, each as "file:line:
// message" in file order, so one edit-and-retry fixes the whole file.
// Secrets are never written in the file itself: each comes from a *_file or
// an *_env key, so a Config holds only paths and variable names and can be
// logged as is. ResolveSecrets reads the values when the service starts.
package config
