#!/usr/bin/env bash
# What a lent GPU machine checks, in one call of the `device` tool (about 8 minutes on an H200; the session has 15
# minutes of device time in all, the machine's start included):
#   1. the machine: GPU, driver, torch                                        -> $OUT/env.txt
#   2. the GPU tests (pytest -m gpu): priming and steps against the full pass, bf16 against float32, a candidate
#      alone and in a batch of three, the compiled step as a CUDA graph       -> $OUT/gpu_tests.log
#   3. the official-size benchmark, one process per model under its own timeout: the eager step of all four first,
#      then the compiled step (ms/step, priming seconds, peak memory, logits against float32)
#                                                                             -> $OUT/official.jsonl, official.log
# Prepare it here, once (that machine has no network, and its image lacks soundfile and cffi):
#   echo /.device/ >> .git/info/exclude
#   pip download soundfile cffi pycparser --no-deps --only-binary=:all: --python-version 3.12 \
#       --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .device/wheels
# then run it through the device tool: command "bash benchmarks/device_check.sh", carry [".device"], timeout_s 560.
set -u
OUT=${OUT:-/tmp/device_check}
BUDGET_S=${BUDGET_S:-480}  # everything after this many seconds is skipped, so the results come back in time
PY=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
start=$(date +%s)
left() { echo $((BUDGET_S - ($(date +%s) - start))); }

if ls .device/wheels/*.whl > /dev/null 2>&1; then
    $PY -m pip install -q --no-deps --no-index .device/wheels/*.whl > "$OUT/pip.log" 2>&1
fi
{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())"
} > "$OUT/env.txt" 2>&1

timeout 150 $PY -m pytest -q -m gpu -rs -p no:cacheprovider tests/sampler/test_device_path.py tests/sampler/test_priming_trim.py \
    > "$OUT/gpu_tests.log" 2>&1
echo "gpu tests: exit $?" >> "$OUT/gpu_tests.log"

bench() {  # model, extra flags, longest run
    local t
    t=$(left)
    [ "$t" -gt 30 ] || { echo "skipped $1 $2: out of time" >> "$OUT/official.log"; return; }
    [ "$t" -lt "$3" ] || t=$3
    echo "== $1 $2 (limit ${t}s)" >> "$OUT/official.log"
    timeout "$t" $PY benchmarks/sampler_speed.py --device cuda --official --models "$1" $2 \
        >> "$OUT/official.jsonl" 2>> "$OUT/official.log"
    echo "exit $?" >> "$OUT/official.log"
}
for m in upsampler 1b_lyrics 5b 5b_lyrics; do bench "$m" --no-compile 90; done
for m in upsampler 5b 1b_lyrics 5b_lyrics; do bench "$m" --compiled-only 200; done
echo "done in $(( $(date +%s) - start )) s" >> "$OUT/official.log"
