#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine (idempotent, quiet when already there):
# - ptxas 11.8 (Debian's non-free component), which assembles the PTX that ILGPU emits for every kernel, with no
#   GPU. The non-free component is added as a deb822 entry shaped like the machine's own.
# - clang, which compiles the OpenCL C that ILGPU emits for the kernels (no OpenCL device here runs it).
# - redis-server, which the Orleans cluster tests start on a free loopback port (and stop after them).
# The kernels themselves run in the tests on ILGPU's CPU accelerator, which is part of the ILGPU package.
set -euo pipefail
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
apt_get() { $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

nonfree=/etc/apt/sources.list.d/rnngpu-nonfree.sources
ptxas_dir="${XDG_CACHE_HOME:-$HOME/.cache}/rnngpu/cuda-toolkit-11.8"
if [ ! -x "$ptxas_dir/ptxas" ] && [ ! -f "$nonfree" ] && ! grep -rqs "non-free" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "setup: adding Debian's contrib and non-free components (for ptxas)"
  $sudo_cmd tee "$nonfree" >/dev/null <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
fi

missing=()
for p in clang redis-server; do
  installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt_get update -qq
  apt_get install -y -qq "${missing[@]}" >/dev/null
fi

# ptxas 11.8 for the PTX checks of the ILGPU kernels (no GPU needed): unpacked from Debian's non-free
# nvidia-cuda-toolkit .deb with dpkg -x, without the package's 2.8 GB of dependencies.
if [ ! -x "$ptxas_dir/ptxas" ]; then
  echo "setup: unpacking ptxas from nvidia-cuda-toolkit into $ptxas_dir"
  work=$(mktemp -d)
  ( cd "$work" && { apt-get download nvidia-cuda-toolkit >/dev/null 2>&1 || { apt_get update -qq && apt-get download nvidia-cuda-toolkit >/dev/null 2>&1; }; } )
  dpkg -x "$work"/nvidia-cuda-toolkit_*.deb "$work/x"
  install -D -m 755 "$work/x/usr/bin/ptxas" "$ptxas_dir/ptxas"   # a static binary: the rest of the package is not needed
  rm -rf "$work"
  "$ptxas_dir/ptxas" --version >/dev/null
fi
