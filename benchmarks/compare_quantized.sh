#!/usr/bin/env bash
# Quantized inference against float32 on the CPU back end (docs/benchmarks.md, "Quantized inference"): for each cell, the
# forward pass at batch 1 x 100 steps x hidden 512 (input 128 and 512) and one streaming step at batch 1 x hidden 512,
# each with --weights fp32, int8 and bf16, interleaved for ROUNDS rounds in the machine setting SETTING
# (benchmarks/settings.sh); beside the LSTM's forward passes, ONNX Runtime 1.32's DynamicQuantizeLSTM at the same shape
# in each of its thread settings (the model exported by export_onnx.py, quantized by `ortbench quantize-lstm`, checked
# against PyTorch's output before each timing). compare_quantized.py prints the table: each side's median over the
# rounds of its runs' medians, the speed-ups over fp32 and the ratio to ONNX Runtime against the issue's targets, and
# the outputs' distance from float32.
#
#   [SETTING=two-cores|one-core|busy-neighbour] [ROUNDS=3] [CASES_FILTER=REGEX] bash benchmarks/compare_quantized.sh [OUT_DIR]
#
# OUT_DIR defaults to out/compare-quantized/SETTING; writes OUT_DIR/lines.jsonl and OUT_DIR/table.md. About 3 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-/usr/bin/python3}
rounds=${ROUNDS:-3}
source benchmarks/settings.sh
out=${1:-out/compare-quantized/$setting}

dotnet build src/RnnGpu.Cli -c Release --nologo -v quiet
dotnet build benchmarks/RnnGpu.OrtBench -c Release --nologo -v quiet
rnngpu=src/RnnGpu.Cli/bin/Release/net10.0/rnngpu
ortbench=benchmarks/RnnGpu.OrtBench/bin/Release/net10.0/ortbench
mkdir -p "$out"
models=out/onnx
for input in 128 512; do
    "$python" benchmarks/export_onnx.py "$models" "$input:512:1:lstm" > /dev/null
    "$ortbench" quantize-lstm "$models/lstm_I${input}_H512_L1.onnx" "$models/lstm_I${input}_H512_L1.dq.onnx" > /dev/null
done

all_cases=()
for cell in rnn lstm gru; do
    for input in 128 512; do
        all_cases+=("--op rnn --mode infer --cell $cell --batch 1 --seq 100 --input $input --hidden 512 --iters 30")
    done
    all_cases+=("--op stream --cell $cell --batch 1 --input 128 --hidden 512 --iters 5000")
done
cases=()
for case in "${all_cases[@]}"; do
    if [ -z "$cases_filter" ] || grep -qE -- "$cases_filter" <<< "$case"; then cases+=("$case"); fi
done
[ "${#cases[@]}" -gt 0 ] || { echo "CASES_FILTER='$cases_filter' matches no case" >&2; exit 2; }

lines=$out/lines.jsonl
meta_line benchmarks/compare_quantized.sh > "$lines"
setting_begin
for round in $(seq "$rounds"); do
    for case in "${cases[@]}"; do
        read -r -a opts <<< "$case"
        for weights in fp32 int8 bf16; do
            echo "$setting, round $round/$rounds, ${SECONDS}s: $case --weights $weights" >&2
            timed "$rnngpu" bench --backend cpu "${opts[@]}" --weights "$weights" >> "$lines"
        done
        if [[ "$case" == "--op rnn --mode infer --cell lstm "* ]]; then
            input=$(sed -E 's/.*--input ([0-9]+).*/\1/' <<< "$case")
            base=$models/lstm_I${input}_H512_L1
            for threads in "${ort_configs[@]}"; do
                echo "$setting, round $round/$rounds, ${SECONDS}s: DynamicQuantizeLSTM I$input, $threads threads" >&2
                timed "$ortbench" --model "$base.dq.onnx" --cell lstm --batch 1 --seq 100 --input "$input" --hidden 512 --threads "$threads" \
                    --iters 30 --check "$base.x.npy" "$base.y.npy" --check-tolerance 1e-2 2> /dev/null >> "$lines"
            done
        fi
    done
done
"$python" benchmarks/compare_quantized.py "$lines" | tee "$out/table.md"
