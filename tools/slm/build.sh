#!/usr/bin/env bash
# Build the embedded chat models end to end:
#   held-out split -> train pocket and reference (generated corpus, fixed BPE tokenizer tools/slm/data/tokenizer.json)
#   -> ONNX export -> q8 / q4 quantization -> ONNX checks (onnxruntime-node) -> transformers.js eval -> card / parity / examples
# Usage: bash tools/slm/build.sh [--pocket-seconds S] [--reference-seconds S] [--pocket-steps N]
#        [--reference-steps N] [--only pocket|reference] [--skip-train] [--train-examples N]
#        [--per-family N]   (held-out items per family for the Node eval; 0 = all)
#        [--continue]       (CPU-sized: continue training the committed models instead of starting from scratch)
# --continue: the committed fp32 files become checkpoints again (onnx_to_ckpt.py, checked against parity.json), then
# both models train at once, one thread each, batch 64, 4200 s each by default (how a new family was added on a 2-core
# machine: README), the other families replayed at a lower rate so the new one is learned without forgetting.
# On a CUDA GPU (torch sees one) both models train at once, from scratch, batch 1024: pocket 150 s / 6209 steps,
# reference 440 s / 7075 steps (~9 min in all); on CPU the same step counts, one model after the other (README: days).
# Requirements: apt-get install python3-torch python3-onnx libopenblas0-pthread ; node >= 20 with npm ci done.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
WORK=tools/slm/work
GPU=$("$PY" -c 'import torch; print(int(torch.cuda.is_available()))')
if [ "$GPU" = 1 ]; then POCKET_S=150; REF_S=440; N_TRAIN=3000000; else POCKET_S=0; REF_S=0; N_TRAIN=3000000; fi
POCKET_STEPS=0; REF_STEPS=0; ONLY=""; SKIP_TRAIN=0; PER_FAMILY=0; CONTINUE=0; POCKET_S_SET=0; REF_S_SET=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pocket-seconds) POCKET_S=$2; POCKET_S_SET=1; shift 2;;
    --reference-seconds) REF_S=$2; REF_S_SET=1; shift 2;;
    --pocket-steps) POCKET_STEPS=$2; shift 2;;
    --reference-steps) REF_STEPS=$2; shift 2;;
    --only) ONLY=$2; shift 2;;
    --skip-train) SKIP_TRAIN=1; shift;;
    --train-examples) N_TRAIN=$2; shift 2;;
    --per-family) PER_FAMILY=$2; shift 2;;
    --continue) CONTINUE=1; shift;;
    -h|--help) sed -n 2,10p "$0"; exit 0;;
    *) echo "unknown flag $1" >&2; exit 2;;
  esac
done
MODELS="pocket reference"; [ -n "$ONLY" ] && MODELS=$ONLY
mkdir -p "$WORK"

if [ "$SKIP_TRAIN" = 0 ] && [ "$CONTINUE" = 1 ]; then
  [ "$POCKET_S_SET" = 1 ] || POCKET_S=4200; [ "$REF_S_SET" = 1 ] || REF_S=4200
  echo "== held-out split + corpus stats"
  "$PY" tools/slm/corpus.py --out-dir "$WORK" --train 600000
  echo "== tokenized corpus (600000 examples)"
  "$PY" tools/slm/train.py --prepare-only --train-examples 600000 --data-cache "$WORK/data-ft.pt"
  pids=""
  for m in $MODELS; do
    echo "== $m: checkpoint from the committed model"
    "$PY" tools/slm/onnx_to_ckpt.py "public/models/slm-$m" "$WORK/$m-base/ckpt.pt"
    rm -f "$WORK/$m/train.log"
    # Keep-probabilities: every family but the new one (arith1) at 0.4 (pocket) / 0.3 (reference) of its rate.
    if [ "$m" = pocket ]; then
      args="--preset pocket --seconds $POCKET_S --lr 1e-3 --exclude-families add3,mul,reverse,sort3
            --family-weights add2=0.4,sub2=0.4,compare=0.4,capital=0.4,upper=0.4,first_letter=0.4,length=0.4,json=0.4,chat=0.4,ood=0.4"
    else
      args="--preset reference --seconds $REF_S --lr 5e-4
            --family-weights add2=0.3,sub2=0.3,compare=0.3,capital=0.3,upper=0.3,first_letter=0.3,length=0.3,json=0.3,chat=0.3,ood=0.3,add3=0.3,mul=0.3,reverse=0.3,sort3=0.3"
    fi
    echo "== continuing $m; follow with: tail -f $WORK/$m/train.log"
    # shellcheck disable=SC2086
    "$PY" tools/slm/train.py $args --grow-from "$WORK/$m-base/ckpt.pt" --device cpu --threads 1 --batch 64 --warmup 50 \
      --train-examples 600000 --data-cache "$WORK/data-ft.pt" --eval-every 600 --out "$WORK/$m" > "$WORK/$m.stdout.log" 2>&1 &
    pids="$pids $!"
  done
  for p in $pids; do wait "$p"; done
elif [ "$SKIP_TRAIN" = 0 ]; then
  echo "== held-out split + corpus stats"
  "$PY" tools/slm/corpus.py --out-dir "$WORK" --train "$N_TRAIN"
  echo "== tokenized corpus ($N_TRAIN examples)"
  "$PY" tools/slm/train.py --prepare-only --train-examples "$N_TRAIN" --data-cache "$WORK/data.pt"
  # Both from scratch, same seeds and corpus on CPU and GPU. pocket: never sees the four hardest families (add3, mul,
  # reverse, sort3), the deliberate split of skills of issue 18 (with 5% of them and 400 s it learned them all and the
  # reference was no better); reference: every family. CPU without a step budget: the GPU runs' step counts
  # The committed models: pocket 6209 steps in 150 s alone on one H200 (41 steps/s; launch-bound, it ran 45 steps/s
  # beside the reference in the first run), reference 7075 steps in 440 s beside pocket, batch 1024. Those step counts
  # cap both devices (training stops at whichever budget ends first), so a faster GPU does not train longer.
  [ "$POCKET_STEPS" != 0 ] || POCKET_STEPS=6209; [ "$REF_STEPS" != 0 ] || REF_STEPS=7075
  pids=""
  for m in $MODELS; do
    rm -f "$WORK/$m/train.log"
    if [ "$m" = pocket ]; then
      args="--preset pocket --seconds $POCKET_S --max-steps $POCKET_STEPS --lr 3e-3 --warmup 300
            --exclude-families add3,mul,reverse,sort3"
    else
      args="--preset reference --seconds $REF_S --max-steps $REF_STEPS --lr 1.5e-3 --warmup 500"
    fi
    echo "== training $m; follow with: tail -f $WORK/$m/train.log"
    # shellcheck disable=SC2086
    "$PY" tools/slm/train.py $args --batch 1024 --train-examples "$N_TRAIN" --data-cache "$WORK/data.pt" \
      --eval-every 60 --out "$WORK/$m" > "$WORK/$m.stdout.log" 2>&1 &
    pids="$pids $!"
    [ "$GPU" = 1 ] || wait $!   # CPU: one at a time (2 cores)
  done
  for p in $pids; do wait "$p"; done
fi

for m in $MODELS; do
  NAME=slm-$m; OUT=public/models/$NAME
  echo "== export $NAME"
  "$PY" tools/slm/export.py --ckpt "$WORK/$m/ckpt.pt" --name "$NAME" --out "$OUT" 2>&1 | { grep -v -i warning || true; }
  echo "== quantize $NAME"
  "$PY" tools/slm/quantize.py "$OUT/onnx" --debug
  echo "== onnx checks $NAME"
  node tools/slm/verify_onnx.mjs "$OUT" --json "$WORK/$m/verify_onnx.json"
  mv "$OUT/onnx/model_q4_reference.onnx" "$WORK/$m/"
  echo "== transformers.js eval + card $NAME"
  node tools/slm/eval.mjs --model "$NAME" --work "$WORK/$m" --per-family "$PER_FAMILY"
done
du -sh public/models/*
echo "done. Tests: npx vitest run tests/models-layout.test.ts tests/parity-node.test.ts"
