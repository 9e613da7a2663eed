# longrun-fake as a container: the in-memory fake of CloudSigma, TrueNAS,
# OpenStack Freezer and ftrack, with its control API under /_fake/.
#
#   docker build -t longrun-fake .
#   docker run --rm -p 8088:8088 longrun-fake -speed 0 -control-token secret
#
# cmd/longrun-fake/docker_test.go runs the build line below (the one after
# "RUN", with its ENV) to prove the binary builds static and serves.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags="-s -w" -o /out/longrun-fake ./cmd/longrun-fake

# distroless/static has /tmp (spooled uploads) and CA certificates, and no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/longrun-fake /usr/local/bin/longrun-fake
EXPOSE 8088
ENTRYPOINT ["/usr/local/bin/longrun-fake", "-addr", "0.0.0.0:8088"]
