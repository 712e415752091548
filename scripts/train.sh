#!/usr/bin/env bash
# The README's main job: train the built-in character model on the CPU (no GPU needed), save it, sample it.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet run --project src/RnnGpu.Cli -c Release -- train "$@"
