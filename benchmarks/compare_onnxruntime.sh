#!/usr/bin/env bash
# The inference comparison with ONNX Runtime of docs/benchmarks.md: builds Release (the CLI and ortbench, ONNX Runtime
# 1.32 through its C# API), exports the models with PyTorch (export_onnx.py; ortbench checks each against PyTorch's
# output before timing), then on every case of `compare.py --ort-cases` runs `rnngpu bench --backend cpu --mode infer`,
# ortbench in each of its thread settings and, for the batch sweep, PyTorch's forward pass, interleaved for ROUNDS
# rounds, in the machine setting SETTING (benchmarks/settings.sh: two-cores, one-core or busy-neighbour). compare.py
# prints the tables and plot_svg.py draws time against batch size.
#
#   [SETTING=one-core] [ROUNDS=3] bash benchmarks/compare_onnxruntime.sh [OUT_DIR]   # default OUT_DIR out/compare-ort/SETTING
#
# Writes OUT_DIR/lines.jsonl, OUT_DIR/compare.json, OUT_DIR/table.md and docs/benchmarks-batch-SETTING.svg. About
# 5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/settings.sh

out=${1:-out/compare-ort/$setting}
rounds=${ROUNDS:-3}
python=${PYTHON:-/usr/bin/python3}     # the system Python has torch 1.13 and numpy; pyenv's python3 has neither

dotnet build src/RnnGpu.Cli -c Release --nologo -v quiet
dotnet build benchmarks/RnnGpu.OrtBench -c Release --nologo -v quiet
rnngpu=src/RnnGpu.Cli/bin/Release/net10.0/rnngpu
ortbench=benchmarks/RnnGpu.OrtBench/bin/Release/net10.0/ortbench

mkdir -p "$out"
models=out/onnx
mapfile -t shapes < <("$python" benchmarks/compare.py --ort-models)
"$python" benchmarks/export_onnx.py "$models" "${shapes[@]}" > /dev/null
for shape in "${shapes[@]}"; do
    IFS=: read -r i h l <<< "$shape"
    base=$models/rnn_I${i}_H${h}_L${l}
    "$ortbench" --model "$base.onnx" --batch 3 --seq 7 --input "$i" --hidden "$h" --layers "$l" --warmup 0 --iters 1 \
        --check "$base.x.npy" "$base.y.npy" > /dev/null
done

lines=$out/lines.jsonl
: > "$lines"
mapfile -t cases < <("$python" benchmarks/compare.py --ort-cases)
for round in $(seq "$rounds"); do
    for case in "${cases[@]}"; do
        echo "$setting, round $round/$rounds: $case" >&2
        read -r -a a <<< "$case"    # --batch B --seq T --input I --hidden H --layers L --iters N [--sweep]
        opts=("${a[@]:0:12}")
        timed "$rnngpu" bench --backend cpu --op rnn --mode infer "${opts[@]}" --warmup 3 >> "$lines"
        for threads in "${ort_configs[@]}"; do
            timed "$ortbench" --model "$models/rnn_I${a[5]}_H${a[7]}_L${a[9]}.onnx" "${opts[@]}" --warmup 3 --threads "$threads" >> "$lines"
        done
        if [ "${a[12]:-}" = --sweep ]; then
            for config in "${torch_configs[@]}"; do
                OPENBLAS_NUM_THREADS=${config#*:} timed "$python" benchmarks/pytorch_cpu.py --op rnn --mode infer "${opts[@]}" --warmup 3 \
                    --threads "${config%:*}" >> "$lines"
            done
        fi
    done
done

"$python" benchmarks/compare.py "$lines" --peer onnxruntime --setting "$setting" --json "$out/compare.json" --markdown "$out/table.md"
"$python" benchmarks/plot_svg.py "$out/compare.json" "docs/benchmarks-batch-$setting.svg"
echo "wrote $lines, $out/compare.json, $out/table.md, docs/benchmarks-batch-$setting.svg" >&2
