#!/usr/bin/env bash
# The device check: everything we need to know about shadergan on one machine, in one go.
#
#   benches/device_check.sh BIN OUT_DIR
#
# BIN is a built shadergan binary (target/release/shadergan), OUT_DIR a new or empty folder. In
# turn: `devices`; `selftest` (every kernel against its CPU twin, whole iterations against the CPU
# executor); `bench peak`; `bench kernels` (adds 4096^3 on a GPU); `bench train` for T, M64, M512
# and C; the default ring run and the default digits DCGAN run, timed, and `eval` of the latter;
# the same workloads and matmul shapes in PyTorch eager (benches/torch_workloads.py) where torch is
# importable, on CUDA when it has it (on the CPU otherwise, standing in). Each step's output goes
# to OUT_DIR/<step>.txt, every JSON record to OUT_DIR/*.json, and the script ends with one summary
# table (benches/device_summary.py). On a CPU adapter (lavapipe) the benches run their --quick
# forms. A failed step is reported, the others still run, the summary is still printed, and the
# exit status is 1.
#
# On a machine without the Vulkan loader (ldconfig finds no libvulkan), .deb files in .gl/ of
# the working directory are unpacked first (libvulkan1 and friends); where the NVIDIA driver's
# ICD file exists but the loader finds none, VK_DRIVER_FILES is pointed at it.
set -uo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 BIN OUT_DIR" >&2
    exit 2
fi
BIN=$(realpath "$1")
OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$BIN" ] || { echo "device_check: $1 is not an executable" >&2; exit 2; }
mkdir -p "$OUT" || exit 2
if [ -n "$(ls -A "$OUT")" ]; then
    echo "device_check: $OUT is not empty" >&2
    exit 2
fi
OUT=$(realpath "$OUT")

if ! ldconfig -p 2>/dev/null | grep -q libvulkan && ls .gl/*.deb >/dev/null 2>&1; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$NV_ICD" ] &&
    ! ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json >/dev/null 2>&1; then
    export VK_DRIVER_FILES=$NV_ICD
fi

failed=()
START=$(date +%s.%N)
# step NAME CMD...: runs CMD with its output in OUT/NAME.txt (and shown), its wall time in
# OUT/times.tsv.
step() {
    local name=$1
    shift
    echo "== $name: $*"
    local t0 rc
    t0=$(date +%s.%N)
    "$@" >"$OUT/$name.txt" 2>"$OUT/$name.err"
    rc=$?
    local secs
    secs=$(echo "$(date +%s.%N) - $t0" | bc)
    printf '%s\t%s\t%s\n' "$name" "$secs" "$rc" >>"$OUT/times.tsv"
    tail -n 25 "$OUT/$name.txt"
    if [ $rc -ne 0 ]; then
        echo "!! $name failed (exit $rc); its stderr:"
        tail -n 20 "$OUT/$name.err"
        failed+=("$name")
    fi
    return $rc
}
# json NAME: the step's stdout is one JSON record; keep it as NAME.json.
json() { cp "$OUT/$1.txt" "$OUT/$1.json"; }

step devices "$BIN" devices
step peak "$BIN" bench peak --json && json peak
CPU=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["adapter"]["device_type"] == "Cpu")' \
    "$OUT/peak.json" 2>/dev/null || echo True)
if [ "$CPU" = True ]; then
    QUICK=(--quick)
    SIZES=(--size 1024)
    TORCH_SIZES=1024
    echo "== a CPU adapter: the benches' --quick forms"
else
    QUICK=()
    SIZES=(--size 1024,2048,4096)
    TORCH_SIZES=1024,2048,4096
fi
step selftest "$BIN" selftest --json && json selftest
step kernels "$BIN" bench kernels "${QUICK[@]}" "${SIZES[@]}" --json && json kernels
step train_bench "$BIN" bench train "${QUICK[@]}" --skip-cpu --json && json train_bench
step ring "$BIN" train --out "$OUT/ring-run"
step digits "$BIN" train --dataset digits --out "$OUT/digits-run"
step digits_eval "$BIN" eval "$OUT/digits-run"
if python3 -c 'import torch' 2>/dev/null; then
    step torch python3 "$HERE/torch_workloads.py" "${QUICK[@]}" --sizes "$TORCH_SIZES" --json "$OUT"
else
    echo "== torch: not importable here, no PyTorch rows"
fi

echo
echo "== summary ($(echo "$(date +%s.%N) - $START" | bc | cut -d. -f1) s in all; every record in $OUT)"
python3 "$HERE/device_summary.py" "$OUT" | tee "$OUT/summary.txt"
if [ ${#failed[@]} -ne 0 ]; then
    echo "device_check: failed steps: ${failed[*]}" >&2
    exit 1
fi
