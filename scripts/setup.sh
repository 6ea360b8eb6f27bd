#!/usr/bin/env bash
# Installs everything wirelens needs on Debian 12 / Ubuntu (as root) and
# builds it: apt packages, npm dependencies, BPF objects, native addon, TS.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "setup: needs root (apt-get; wirelens itself loads BPF programs). remedy: sudo bash scripts/setup.sh" >&2
  exit 1
fi
if ! command -v node >/dev/null || ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || ! command -v npm >/dev/null; then
  echo "setup: Node.js 20+ with npm is required (found: $(node --version 2>/dev/null || echo none)). remedy: install Node.js 20 or later, e.g. from nodesource or nvm" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
APT_PKGS=(clang llvm libbpf-dev libelf-dev zlib1g-dev libpcap-dev make g++ python3 pkg-config
          iproute2 util-linux procps curl ca-certificates
          nginx wrk tcpdump nftables iputils-ping iperf3 dnsmasq dnsutils openssl clang-format tshark hping3)
missing=()
for p in "${APT_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
command -v bpftool >/dev/null || missing+=(bpftool)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    # Ubuntu ships bpftool in linux-tools.
    rest=("${missing[@]/bpftool/}")
    apt-get install -y -qq --no-install-recommends ${rest[@]} linux-tools-common "linux-tools-$(uname -r)" >/dev/null
  fi
fi
# nginx from the package starts a default site on :80; tests and benches run their own.
# dnsmasq's package starts a resolver on :53 the same way; the dns tests start their own on 127.0.0.1.
for svc in nginx dnsmasq; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then systemctl stop "$svc" || true; fi
done

npm ci --ignore-scripts --no-audit --no-fund
npm run build
echo "setup: done. try: npx wirelens doctor"
