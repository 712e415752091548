#!/usr/bin/env bash
# The README's main job: train the built-in character model on the CPU (no GPU needed), save it
# as model.safetensors in the current folder, and print samples before and after training.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet run --project "$root/src/RnnGpu.Cli" -c Release -- train "$@"
