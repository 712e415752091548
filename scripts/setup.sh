#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine (idempotent, quiet when already there):
# PoCL, a real OpenCL runtime on the CPU, so the OpenCL back end runs for real without a GPU.
set -euo pipefail
packages=(pocl-opencl-icd ocl-icd-libopencl1 clinfo)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
