#!/usr/bin/env bash
# Load test of RnnGpu.Server: builds in Release and runs RnnGpu.LoadTest, which hosts the server on a
# loopback socket and reports throughput and latency with dynamic batching on and off.
# Extra arguments go to the load test, e.g.: bash benchmarks/load_test.sh --clients 32 --hidden 256
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build benchmarks/RnnGpu.LoadTest/RnnGpu.LoadTest.csproj -c Release -nologo -v quiet
dotnet benchmarks/RnnGpu.LoadTest/bin/Release/net10.0/RnnGpu.LoadTest.dll "$@"
