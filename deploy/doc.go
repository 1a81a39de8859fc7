// Package deploy holds how kubedrift is shipped and run: the Helm chart under
// helm/kubedrift (the repository root holds the Dockerfile). It has no code;
// its tests check the chart, the Dockerfile and .dockerignore structurally,
// without helm or docker, so a broken manifest or an RBAC rule wider than the
// cluster scan needs fails `go test`.
package deploy
