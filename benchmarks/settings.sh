# The machine setting a comparison runs in, sourced by compare_pytorch.sh and compare_onnxruntime.sh:
#
#   SETTING=two-cores       (default) both cores free; every side unpinned
#   SETTING=one-core        every timed process (ours and the peers) confined to core 0 (taskset -c 0), as in a
#                           container limited to one CPU
#   SETTING=busy-neighbour  another process spins on core 1 (taskset -c 1, a busy loop) for the whole measurement;
#                           every timed process unpinned
#
#   CASES_FILTER=REGEX      only the cases whose option line matches REGEX (grep -E), for a quick test; such a run
#                           writes its plot into OUT_DIR, not docs/
#
# Defines `timed CMD...` (runs CMD in the setting), `setting_begin` (starts the neighbour: call it after the build,
# right before the first timed run; an exit trap stops it, also on failure or Ctrl-C), `select_cases` (applies
# CASES_FILTER), `meta_line` (the first line of lines.jsonl: setting, command, rounds) and the thread settings each
# peer is tried in (the tables compare with its fastest, and name it).
setting=${SETTING:-two-cores}
cases_filter=${CASES_FILTER:-}
case "$setting" in
    two-cores | busy-neighbour) pin=() ;;
    one-core) pin=(taskset -c 0) ;;
    *) echo "SETTING must be two-cores, one-core or busy-neighbour, not '$setting'" >&2; exit 2 ;;
esac
if [ "$setting" != two-cores ] && [ "$(nproc --all)" -lt 2 ]; then
    echo "SETTING=$setting needs cores 0 and 1; this machine has $(nproc --all)" >&2
    exit 2
fi

timed() { "${pin[@]}" "$@"; }

neighbour=
stop_neighbour() {
    if [ -n "$neighbour" ]; then
        kill "$neighbour" 2>/dev/null || true
        wait "$neighbour" 2>/dev/null || true
        neighbour=
    fi
}
setting_begin() {
    [ "$setting" = busy-neighbour ] || return 0
    trap stop_neighbour EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    # A busy loop on core 1, named rnngpu-busy-neighbour (pgrep -f finds it). Every 200,000 turns (about a third of a
    # second) it checks that this script still runs, so it ends by itself even if the script is killed with SIGKILL and
    # its trap never runs.
    taskset -c 1 bash -c 'while kill -0 "$1" 2>/dev/null; do for ((i = 0; i < 200000; i++)); do :; done; done' \
        rnngpu-busy-neighbour "$$" &
    neighbour=$!
    echo "busy neighbour: pid $neighbour spinning on core 1" >&2
}

# The cases of a script (compare.py --cases or --ort-cases), one option line each, less those CASES_FILTER drops.
select_cases() {
    local all
    all=$("$python" benchmarks/compare.py "$@")
    if [ -n "$cases_filter" ]; then
        all=$(grep -E -- "$cases_filter" <<< "$all" || true)
        [ -n "$all" ] || { echo "CASES_FILTER='$cases_filter' matches no case of compare.py $*" >&2; exit 2; }
    fi
    printf '%s\n' "$all"
}

# The command that reproduces this run, as the tables and the plot caption quote it.
run_command() {
    local script=$1 words=("SETTING=$setting")
    [ "$rounds" = 3 ] || words+=("ROUNDS=$rounds")
    [ -z "$cases_filter" ] || words+=("CASES_FILTER='$cases_filter'")
    echo "${words[*]} bash $script"
}

# The first line of lines.jsonl: compare.py reads the setting and the command from it (no "backend": not a result).
meta_line() {
    "$python" -c 'import json, sys; print(json.dumps({"meta": {"setting": sys.argv[1], "command": sys.argv[2], "rounds": int(sys.argv[3]), "cases_filter": sys.argv[4]}}))' \
        "$setting" "$(run_command "$1")" "$rounds" "$cases_filter"
}

# Where a run's plot goes: docs/ for a full run, OUT_DIR for a filtered test run (not a result to publish).
plot_path() {
    if [ -z "$cases_filter" ]; then echo "docs/$1-$setting.svg"; else echo "$out/$1-$setting.svg"; fi
}

# PyTorch: "intra-op threads:OpenBLAS threads" pairs. This torch build does its products in OpenBLAS, whose threads are
# its own (benchmarks.md, How to run): on two free cores 1 intra-op thread with 2 OpenBLAS threads is the fastest; on
# one core both thread counts run the products on the one core; beside a busy neighbour one OpenBLAS thread may win.
case "$setting" in
    two-cores) torch_configs=(1:2 2:2) ;;
    one-core) torch_configs=(1:1 2:1) ;;
    busy-neighbour) torch_configs=(1:1 1:2 2:2) ;;
esac
# ONNX Runtime: intra-op threads, 1 and 2 in every setting (under taskset -c 0 its two threads share the core).
ort_configs=(1 2)
