#!/usr/bin/env bash
# Installs the Debian packages berth needs to build, run and test.
# Quick when everything is present; apt-get runs only for what is missing.
set -euo pipefail
pkgs=(
  busybox-static   # the local busybox image (no internet)
  libseccomp-dev   # berth-runtime links libseccomp
  pkg-config
  runc             # reference OCI runtime (--runtime runc)
  docker.io        # dockerd 20.10: the anchor for interop tests and benchmarks
  iptables         # dockerd needs it even with --iptables=false
  nftables         # nft: berthd applies its firewall table with nft -f
  iproute2         # ip: the test harness removes a test daemon's bridge
  skopeo           # reference registry client (pull/push interop)
  docker-registry  # the CNCF registry: interop and benchmark anchor
  apache2-utils    # htpasswd for registry auth tests
  file
  curl
  procps          # ps, for docker top
  tini             # tini-static: the init of --init, as dockerd's docker-init
  openssl          # TLS fixtures (certs.d tests)
  docker-compose   # compose v1 (python) against berthd: tests/tests/compose.rs
  qemu-user-static # emulation of other architectures (--platform)
  openssh-server   # a local sshd on loopback for ssh:// hosts (started by the test)
  openssh-client
  git              # Git build contexts (remote=), cloned by berthd as by dockerd
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # No service starts from a package here (openssh-server's would): the
  # tests start what they need, on loopback, and stop it.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ $made_policy = 0 ] || rm -f /usr/sbin/policy-rc.d
fi
# Foreign architectures, for the --platform fixtures: busybox-static of
# arm64 and armhf, fetched as Debian packages (never from a registry).
added=0
for a in arm64 armhf; do
  dpkg --print-foreign-architectures | grep -qx "$a" || { dpkg --add-architecture "$a"; added=1; }
done
[ $added = 0 ] || apt-get update -qq
command -v cargo >/dev/null || { echo "cargo is required (rustup)" >&2; exit 1; }
# oras (PyPI SDK) for the registry's artifact/referrers test.
python3 -c 'import oras.client' 2>/dev/null || python3 -m pip install -q oras
# docker-py, for the docker-py compatibility test.
python3 -c 'import docker' 2>/dev/null || python3 -m pip install -q docker
# websocket-client: docker-py's attach over the websocket endpoint.
python3 -c 'import websocket' 2>/dev/null || python3 -m pip install -q websocket-client
# testcontainers-python, for the testcontainers compatibility test.
python3 -c 'import testcontainers' 2>/dev/null || python3 -m pip install -q testcontainers
