#!/usr/bin/env bash
# GPU check: which GPU, the benchmark table on CUDA, and the notebook's model trained for 3 minutes
# on tiny Shakespeare (chars/s and validation loss). Finishes within 8 minutes in all: each step
# has its own timeout.
#
# Assumes a Python environment with the project installed and a CUDA build of torch, e.g.
#   python -m venv .venv && . .venv/bin/activate && pip install -e .
# Usage, from anywhere:
#   bash benchmarks/gpu_check.sh [CORPUS]     # default: ../shared/data/tinyshakespeare.txt
# A dry run of the plumbing without a GPU: DEVICE=cpu MINUTES=0.2 BENCH="--sections sample --quick"
set -uo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-../shared/data/tinyshakespeare.txt}
PY=${PYTHON:-python}
DEVICE=${DEVICE:-cuda}
MINUTES=${MINUTES:-3}
BENCH=${BENCH:---sections train,sample --quick}
START=$(date +%s)

echo "== device"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "nvidia-smi: not available"
$PY -c "import torch; ok = torch.cuda.is_available(); print('torch', torch.__version__, '· CUDA', torch.version.cuda, '·', torch.cuda.get_device_name(0) if ok else 'no CUDA device')" || exit 1

echo "== benchmark table on CUDA (sampling runs on the CPU by design)"
timeout 180 $PY -m benchmarks.run --device "$DEVICE" $BENCH \
    || echo "benchmark table: failed or timed out (exit $?)"

echo "== notebook model, $MINUTES minutes on $CORPUS"
if [ ! -f "$CORPUS" ]; then
    echo "skipped: $CORPUS not found (pass the corpus path as the first argument)"
else
    TMP=$(mktemp -d)
    timeout 255 shakespeare-tui train --preset notebook --corpus "$CORPUS" --max-minutes "$MINUTES" \
        --data-dir "$TMP" --run gpu-check --device "$DEVICE" --quiet
    echo "train exit code: $?"
    $PY - "$TMP/runs/gpu-check/metrics.jsonl" <<'EOF'
import json, statistics, sys
try:
    records = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
except OSError as exc:
    sys.exit(f"no metrics: {exc}")
steps = [r for r in records if r.get("kind") == "step"]
epochs = [r for r in records if r.get("kind") == "epoch" and r.get("epoch", 0) >= 1]
speeds = [r["chars_per_sec"] for r in steps[1:]] or [r["chars_per_sec"] for r in steps]
print(f"steps: {steps[-1]['step'] if steps else 0}, epochs: {len(epochs)}")
if speeds:
    print(f"train chars/s: median {statistics.median(speeds):,.0f} (max {max(speeds):,.0f})")
for r in epochs:
    print(f"epoch {r['epoch']}{' (partial)' if r.get('partial') else ''}: val {r['val_loss']:.4f}")
if epochs:
    print(f"best validation loss: {min(r['val_loss'] for r in epochs):.4f} nats/char")
EOF
    rm -rf "$TMP"
fi
echo "== done in $(( $(date +%s) - START )) s"
