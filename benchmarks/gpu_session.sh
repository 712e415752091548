#!/usr/bin/env bash
# The device checks of a session that has a GPU machine, as one command (a machine costs minutes to start and a
# session has 15 minutes of it). Here: ../shared/device/pack.sh tests/RnnGpu.Tests/RnnGpu.Tests.csproj
# src/RnnGpu.Cli/RnnGpu.Cli.csproj; then run there, with carry [".device"]:
#     bash benchmarks/gpu_session.sh            # STAGE=tests or STAGE=bench for one half
# Writes everything under $OUT (the device tool brings it back): the suite's log (every shared test on cuda, the
# CUDA-only tests), and one JSON line per run of rnngpu bench --backend cuda and of cuDNN's nn.RNN (fp32 with TF32
# off, and on), interleaved shape by shape, for docs/benchmarks.md.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/rnngpu-gpu}
mkdir -p "$out"
stage=${STAGE:-all}
nvidia-smi -L | tee "$out/gpu.txt"
bash .device/run.sh RnnGpu.Cli devices | tee "$out/devices.txt"

if [ "$stage" != bench ]; then
  timeout 420 bash .device/run.sh RnnGpu.Tests -noLogo > "$out/tests.log" 2>&1
  echo "tests: exit $?"; grep -E "Total:|\[FAIL\]" "$out/tests.log" | head -40
fi

if [ "$stage" != tests ]; then
  # Batch 1-4 (the persistent kernel's target: twice cuDNN) and 16-64 (the step loop's: cuDNN's speed), H 256-1024.
  for s in "1 100 256" "4 100 256" "1 50 1024" "4 50 1024" "16 100 256" "64 100 256" "16 50 1024" "64 50 1024"; do
    set -- $s
    shape=(--batch "$1" --seq "$2" --input 64 --hidden "$3" --iters 20)
    bash .device/run.sh RnnGpu.Cli bench --backend cuda "${shape[@]}" | tee -a "$out/bench.jsonl"
    python3 benchmarks/cudnn_bench.py "${shape[@]}" --tf32 off | tee -a "$out/bench.jsonl"
    python3 benchmarks/cudnn_bench.py "${shape[@]}" --tf32 on | tee -a "$out/bench.jsonl"
  done
  # The LSTM and GRU against cuDNN's at the CPU comparison's shapes and a small batch (issue 14).
  for cell in lstm gru; do
    for s in "1 100 64 256 1" "64 100 64 256 1" "16 50 128 512 2"; do
      set -- $s
      shape=(--cell "$cell" --batch "$1" --seq "$2" --input "$3" --hidden "$4" --layers "$5" --iters 20)
      bash .device/run.sh RnnGpu.Cli bench --backend cuda "${shape[@]}" | tee -a "$out/bench.jsonl"
      python3 benchmarks/cudnn_bench.py "${shape[@]}" --tf32 off | tee -a "$out/bench.jsonl"
    done
  done
fi
