# syntax=docker/dockerfile:1
#
# mcpfiber: a static binary (CGO off, -trimpath) built in a Go image and
# run from distroless as a non-root user. Two targets:
#
#   docker build -t mcpfiber .                          # the binary alone (default, last stage)
#   docker run --rm -p 8080:8080 mcpfiber
#
#   docker build --target stdio-node -t mcpfiber:node . # plus Node.js, to bridge npx servers
#   docker run --rm -p 8080:8080 \
#     -e MCPFIBER_STDIO_COMMAND='npx -y @modelcontextprotocol/server-everything' mcpfiber:node
#
# Flags are read from MCPFIBER_<NAME> too (--max-children is
# MCPFIBER_MAX_CHILDREN). The server listens on 0.0.0.0:8080 in the
# container; publish the port on loopback or put a reverse proxy with
# authentication in front (see README, Deployment). SIGTERM drains it
# (--drain-window, --grace-period): give `docker stop` a longer timeout
# than --grace-period (docker stop -t 20).

ARG GO_VERSION=1.25

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w' -o /out/mcpfiber . \
    && /out/mcpfiber --help >/dev/null

# mcpfiber with Node.js, for stdio servers started by npx (--stdio or
# MCPFIBER_STDIO_COMMAND). Runs as the image's non-root user "node"; npx
# caches packages in its home.
FROM node:22-bookworm-slim AS stdio-node
COPY --from=build /out/mcpfiber /usr/local/bin/mcpfiber
ENV MCPFIBER_ADDR=0.0.0.0:8080 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false
USER node
WORKDIR /home/node
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/mcpfiber"]

# The default image: the static binary alone on distroless, as nonroot
# (uid 65532), no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/mcpfiber /mcpfiber
ENV MCPFIBER_ADDR=0.0.0.0:8080
USER 65532:65532
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/mcpfiber"]
