# The machine setting a comparison runs in, sourced by compare_pytorch.sh and compare_onnxruntime.sh:
#
#   SETTING=two-cores       (default) both cores free; every side unpinned
#   SETTING=one-core        every timed process confined to core 0 (taskset -c 0), as in a container limited to one CPU
#   SETTING=busy-neighbour  another process spins on core 1 for the whole measurement; every side unpinned
#
# Defines `timed CMD...` (runs CMD in the setting), `peer_configs` (the thread settings each peer is tried in: the
# tables compare with its fastest) and starts the neighbour, which an exit trap stops (also on failure or Ctrl-C).
setting=${SETTING:-two-cores}
case "$setting" in
    two-cores) pin=() ;;
    one-core) pin=(taskset -c 0) ;;
    busy-neighbour)
        pin=()
        taskset -c 1 bash -c 'while :; do :; done' &
        neighbour=$!
        trap 'kill "$neighbour" 2>/dev/null; wait "$neighbour" 2>/dev/null' EXIT
        trap 'exit 130' INT TERM
        ;;
    *) echo "SETTING must be two-cores, one-core or busy-neighbour, not '$setting'" >&2; exit 2 ;;
esac

timed() { "${pin[@]}" "$@"; }

# PyTorch: "intra-op threads:OpenBLAS threads" pairs. This torch build does its products in OpenBLAS, whose threads
# are its own: on two cores 1 intra-op thread with 2 OpenBLAS threads is the fastest (benchmarks.md, How to run).
case "$setting" in
    two-cores) torch_configs=(1:2 2:2) ;;
    one-core) torch_configs=(1:1) ;;
    busy-neighbour) torch_configs=(1:1 1:2 2:2) ;;
esac
# ONNX Runtime: intra-op threads.
case "$setting" in
    one-core) ort_configs=(1) ;;
    *) ort_configs=(1 2) ;;
esac
