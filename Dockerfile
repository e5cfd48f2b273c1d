# syntax=docker/dockerfile:1
#
# vpcprobe's container image: one static binary, a CA bundle and a passwd entry, nothing else —
# no shell, no libc, no package manager. Multi-platform:
#
#   docker build -t vpcprobe .
#   docker buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=v1.2.3 \
#       -t <account>.dkr.ecr.<region>.amazonaws.com/vpcprobe:v1.2.3 --push .
#
# image/image_test.go builds the binary with the flags of the `go build` line below (it parses
# them from this file) and runs it in a root assembled from this file's final stage, so keep
# the build in that one RUN line and the final stage's COPY lines as they are shaped here.

ARG GO_VERSION=1.26

# The builder runs on the build machine's own platform and cross-compiles: no emulation, and
# a pure-Go program needs none.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# The Debian-based Go image carries the ca-certificates package; fail here, not at run time,
# if a future base image stops doing so.
RUN test -s /etc/ssl/certs/ca-certificates.crt
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG REVISION=
ARG CREATED=
# Static (no cgo: the scratch image has no libc), reproducible paths (-trimpath), stripped
# (-s -w), version, commit and date stamped (--version prints them; an empty REVISION leaves the
# VCS revision Go records when .git is in the context). scripts/release builds the same binary.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.commit=${REVISION} -X main.date=${CREATED}" -o /out/vpcprobe ./cmd/vpcprobe

FROM scratch
ARG VERSION=dev
ARG REVISION=
ARG CREATED=
LABEL org.opencontainers.image.title="vpcprobe" \
      org.opencontainers.image.description="Tells why an ECS or Fargate task in a private subnet cannot reach the AWS services it needs, and what to change." \
      org.opencontainers.image.source="https://github.com/vpcprobe/vpcprobe" \
      org.opencontainers.image.url="https://github.com/vpcprobe/vpcprobe" \
      org.opencontainers.image.documentation="https://github.com/vpcprobe/vpcprobe/tree/main/taskdef" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
# The roots TLS checks verify AWS certificates against (Go reads this path on Linux).
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# A named non-root user, so that tools showing the user see a name and not a bare number.
COPY image/passwd /etc/passwd
COPY image/group /etc/group
COPY --from=build /out/vpcprobe /vpcprobe
USER 65532:65532
ENTRYPOINT ["/vpcprobe"]
