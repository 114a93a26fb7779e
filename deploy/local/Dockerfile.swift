# A stand-in for the official swift:<version>-bookworm image where no registry is reachable: the
# local Debian base (scripts/compose-test) plus the packages the official image installs, and a
# Swift toolchain copied from this host. Build context: the toolchain's prefix (the folder that
# holds usr/bin/swift, e.g. /opt/swift); it lands under /usr as in the official image.
#   docker build -f deploy/local/Dockerfile.swift --build-arg BASE_IMAGE=... -t daytrade-local/swift /opt/swift
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -q \
    && apt-get install -y -q --no-install-recommends binutils git gnupg2 libc6-dev libcurl4-openssl-dev \
       libedit2 libgcc-12-dev libpython3-dev libsqlite3-0 libstdc++-12-dev libxml2-dev libncurses-dev \
       libz3-dev pkg-config tzdata zlib1g-dev ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY usr/ /usr/
RUN swift --version
