# syntax=docker/dockerfile:1
#
# kubedrift container image: one static binary on distroless, running as the
# unprivileged "nonroot" user. Build with
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#                --build-arg COMMIT=$(git rev-parse --short HEAD) -t kubedrift .

# ---- build stage -----------------------------------------------------------
# Runs on the build host's platform and cross-compiles, so multi-arch builds
# (docker buildx --platform linux/amd64,linux/arm64) need no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
# Set by BuildKit from --platform; empty means the build host's own.
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=unknown
WORKDIR /src

# Modules first: this layer and the cache mount survive source-only changes.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
# .git is not in the build context, so VCS stamping is off; version and
# commit come from the build args instead.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/kubedrift ./cmd/kubedrift

# distroless has no shell to mkdir with: prepare the store directory here so
# it exists, owned by nonroot, even when no volume is mounted over it.
RUN mkdir -p /out/state

# ---- runtime stage ---------------------------------------------------------
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="kubedrift" \
      org.opencontainers.image.description="How far your Kubernetes clusters drift from upstream, and what stands between them and the next safe version" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"

COPY --from=build /out/kubedrift /kubedrift
COPY --from=build --chown=65532:65532 /out/state /var/lib/kubedrift

# 65532 is distroless' "nonroot"; numeric so runAsNonRoot can verify it.
USER 65532:65532
# The SQLite store (set store: /var/lib/kubedrift/kubedrift.db in the config).
VOLUME ["/var/lib/kubedrift"]
# serve listens here (listen: ":9090"): /healthz, /readyz, /metrics, /api/v1/pending.
EXPOSE 9090

ENTRYPOINT ["/kubedrift"]
CMD ["serve", "--config", "/etc/kubedrift/kubedrift.yaml"]
