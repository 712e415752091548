#!/usr/bin/env bash
# The inference comparison with ONNX Runtime of docs/benchmarks.md: builds Release (the CLI, and ortbench: ONNX Runtime
# 1.32 through its C# API), exports the models with PyTorch (export_onnx.py), then on every case of
# `compare.py --ort-cases` runs `rnngpu bench --backend cpu --op rnn --mode infer` and ortbench in each of its thread
# settings (each ortbench run first checks the model's output against PyTorch's, --check), and on the batch sweep
# PyTorch's forward pass too (pytorch_cpu.py in each of its thread settings), interleaved for ROUNDS rounds, in the
# machine setting SETTING (benchmarks/settings.sh: two-cores, one-core or busy-neighbour). compare.py prints the
# tables and plot_svg.py draws the time against the batch size.
#
#   [SETTING=two-cores|one-core|busy-neighbour] [ROUNDS=3] [CASES_FILTER=REGEX] bash benchmarks/compare_onnxruntime.sh [OUT_DIR]
#
# OUT_DIR defaults to out/compare-ort/SETTING. Writes OUT_DIR/lines.jsonl (every JSON line), OUT_DIR/compare.json,
# OUT_DIR/table.md (to paste into docs/benchmarks.md) and docs/benchmarks-batch-SETTING.svg (OUT_DIR/... when
# CASES_FILTER is set). About 6 minutes on 2 cores at ROUNDS=3.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-/usr/bin/python3}     # the system Python has torch 1.13 and numpy; pyenv's python3 has neither
rounds=${ROUNDS:-3}
source benchmarks/settings.sh
out=${1:-out/compare-ort/$setting}

dotnet build src/RnnGpu.Cli -c Release --nologo -v quiet
dotnet build benchmarks/RnnGpu.OrtBench -c Release --nologo -v quiet
rnngpu=src/RnnGpu.Cli/bin/Release/net10.0/rnngpu
ortbench=benchmarks/RnnGpu.OrtBench/bin/Release/net10.0/ortbench

mkdir -p "$out"
models=out/onnx
mapfile -t shapes < <("$python" benchmarks/compare.py --ort-models)
"$python" benchmarks/export_onnx.py "$models" "${shapes[@]}" > /dev/null
mapfile -t cases < <(select_cases --ort-cases)

lines=$out/lines.jsonl
meta_line benchmarks/compare_onnxruntime.sh > "$lines"
setting_begin
for round in $(seq "$rounds"); do
    for case in "${cases[@]}"; do
        echo "$setting, round $round/$rounds, ${SECONDS}s: $case" >&2
        read -r model kind options <<< "$case"     # rnn_I{i}_H{h}_L{l} target|sweep --batch B --seq T ... --iters N
        read -r -a opts <<< "$options"
        timed "$rnngpu" bench --backend cpu --op rnn --mode infer "${opts[@]}" --warmup 3 >> "$lines"
        for threads in "${ort_configs[@]}"; do
            timed "$ortbench" --model "$models/$model.onnx" --check "$models/$model.x.npy" "$models/$model.y.npy" \
                "${opts[@]}" --warmup 3 --threads "$threads" >> "$lines"
        done
        [ "$kind" = sweep ] || continue
        for config in "${torch_configs[@]}"; do
            OPENBLAS_NUM_THREADS=${config#*:} timed "$python" benchmarks/pytorch_cpu.py --op rnn --mode infer "${opts[@]}" \
                --warmup 3 --threads "${config%:*}" --max-seconds 5 >> "$lines"
        done
    done
done
stop_neighbour
echo "measured in ${SECONDS}s" >&2

plot=$(plot_path benchmarks-batch)
"$python" benchmarks/compare.py "$lines" --peer onnxruntime --json "$out/compare.json" --markdown "$out/table.md"
"$python" benchmarks/plot_svg.py "$out/compare.json" "$plot"
echo "wrote $lines, $out/compare.json, $out/table.md" >&2
