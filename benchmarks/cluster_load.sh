#!/usr/bin/env bash
# Scale-out figures (docs/scaling.md): starts a redis-server on a free loopback port, then runs RnnGpu.LoadTest
# (1) over the three transports of one request per sequence (direct, HTTP JSON, gRPC), interleaved rounds, and
# (2) over stateful streams: one process's own, then the Orleans cluster with 1 and with 2 silos over that Redis.
# ROUNDS (default 3) and CLIENTS (default 64 for the transports) can be set; extra arguments go to both load tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
rounds=${ROUNDS:-3}
clients=${CLIENTS:-64}
dotnet build benchmarks/RnnGpu.LoadTest/RnnGpu.LoadTest.csproj -c Release -nologo -v quiet
load="dotnet benchmarks/RnnGpu.LoadTest/bin/Release/net10.0/RnnGpu.LoadTest.dll"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no > /dev/null &
redis_pid=$!
trap 'kill "$redis_pid" 2> /dev/null || true' EXIT
until redis-cli -p "$port" ping > /dev/null 2>&1; do sleep 0.1; done
$load --transport direct,http,grpc --rounds "$rounds" --clients "$clients" --requests 2000 --warmup 500 "$@"
$load --mode streams --streams local,cluster --silos 1 --rounds "$rounds" --redis "127.0.0.1:$port" --clients 16 --chunks 30 "$@"
$load --mode streams --streams cluster --silos 2 --rounds "$rounds" --redis "127.0.0.1:$port" --clients 16 --chunks 30 "$@"
