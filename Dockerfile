# syntax=docker/dockerfile:1
# The scangate image: scangate-webhook (the entrypoint) and the scangate CLI on a distroless-style
# Debian 12 runtime: their shared libraries, CA certificates and /etc/os-release, no shell, no
# package manager, user 65532.
#
#   docker build -t scangate/scangate:0.1.0 .
#   docker run --rm --read-only scangate/scangate:0.1.0 --help
#   docker run --rm --read-only --entrypoint scangate scangate/scangate:0.1.0 version
#
# Without a daemon, scripts/build-image --output DIR builds the same image as an OCI layout: both
# recipes assemble the runtime with scripts/image/assemble-rootfs from the one package list
# scripts/image/runtime-packages.

FROM debian:12 AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      build-essential cmake ninja-build pkg-config binutils ca-certificates git \
      libboost-dev libboost-system-dev libssl-dev nlohmann-json3-dev libcpp-httplib-dev \
      prometheus-cpp-dev libarchive-dev libsqlite3-dev libyaml-cpp-dev libhiredis-dev \
      zlib1g-dev libzstd-dev libpcre2-dev \
 && rm -rf /var/cache/apt/archives/*.deb
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCANGATE_BUILD_TESTS=OFF \
 && cmake --build /build --target scangate scangate-webhook
RUN scripts/image/assemble-rootfs /rootfs /build/scangate /build/scangate-webhook

FROM scratch
COPY --from=build /rootfs/root/ /
# nonroot's writable folders, one by one: a COPY of their parent tree would chown /home and /var too
COPY --from=build --chown=65532:65532 /rootfs/nonroot/home/nonroot /home/nonroot
COPY --from=build --chown=65532:65532 /rootfs/nonroot/var/lib/scangate/db /var/lib/scangate/db
COPY --from=build --chown=65532:65532 /rootfs/nonroot/var/lib/scangate/spool /var/lib/scangate/spool
USER 65532:65532
WORKDIR /
ENV PATH=/usr/bin:/bin HOME=/tmp SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# HOME is /tmp: a volume, so it stays writable under --read-only (the chart mounts an emptyDir).
VOLUME ["/tmp"]
LABEL org.opencontainers.image.title=scangate org.opencontainers.image.version=0.1.0
ENTRYPOINT ["scangate-webhook"]
