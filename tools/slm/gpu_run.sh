#!/usr/bin/env bash
# One-shot GPU training used for the committed models (run from a folder holding slm/*.py and slm/data/):
#   OUT=/path SECS_P=150 SECS_R=440 NTRAIN=3000000 bash slm/gpu_run.sh
# Same recipe as build.sh's GPU branch (pocket without add3/mul/reverse/sort3, reference on every family), with the same
# step budgets (pocket 6209, reference 7075). The committed models came from one run of both with the defaults
# (`cd .gpu && OUT=$OUT bash slm/gpu_run.sh` on one H200, torch 2.11: corpus 31 s, pocket 6209 steps in 138 s,
# reference 7075 steps in 354 s, 407 s in all).
# Writes <OUT>/{pocket,reference}/{ckpt.pt,train.log,train_stats.json}, <OUT>/stdout.log and <OUT>/weights.npz (both state_dicts as numpy, a torch-version-free copy).
set -uo pipefail
export PYTHONUNBUFFERED=1
ONLY=${ONLY:-}; P_EXTRA=${P_EXTRA:-}  # ONLY=pocket|reference; P_EXTRA: more train.py flags for pocket
SECS_P=${SECS_P:-150}; SECS_R=${SECS_R:-440}; NTRAIN=${NTRAIN:-3000000}; PY=${PY:-python3}; BATCH=${BATCH:-1024}
# Step budgets as build.sh (the committed models' step counts); training stops at whichever budget ends first.
STEPS_P=${STEPS_P:-6209}; STEPS_R=${STEPS_R:-7075}
D=$(dirname "$0")
exec >>"$OUT/stdout.log" 2>&1
date; nvidia-smi -L || true
$PY -c 'import torch; print(torch.__version__, torch.cuda.is_available())'
common="--tokenizer $D/data/tokenizer.json --heldout $D/data/heldout.jsonl --train-examples $NTRAIN --data-cache /tmp/slm_data.pt"
$PY "$D/train.py" --prepare-only $common || exit 1
date
p1=""; p2=""
[ "$ONLY" = reference ] || { $PY "$D/train.py" --preset pocket $common $P_EXTRA --seconds "$SECS_P" --max-steps "$STEPS_P" --lr 3e-3 --warmup 300 --batch "$BATCH" \
  --exclude-families add3,mul,reverse,sort3 --eval-every 60 --out "$OUT/pocket" & p1=$!; }
[ "$ONLY" = pocket ] || { $PY "$D/train.py" --preset reference $common --seconds "$SECS_R" --max-steps "$STEPS_R" --lr 1.5e-3 --warmup 500 --batch "$BATCH" \
  --eval-every 60 --out "$OUT/reference" & p2=$!; }
for p in $p1 $p2; do wait "$p"; done
date
$PY - "$OUT" <<'PYEOF'
import sys, numpy as np, torch
out = sys.argv[1]
arrs = {}
import os
for m in ("pocket", "reference"):
    if not os.path.exists(f"{out}/{m}/ckpt.pt"):
        continue
    ck = torch.load(f"{out}/{m}/ckpt.pt", map_location="cpu", weights_only=False)
    for k, v in ck["state_dict"].items():
        arrs[f"{m}/{k}"] = v.float().numpy()
np.savez(f"{out}/weights.npz", **arrs)
print("weights.npz", len(arrs))
PYEOF
ls -la "$OUT" "$OUT"/*
