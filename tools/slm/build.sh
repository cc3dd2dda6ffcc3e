#!/usr/bin/env bash
# Build the embedded chat models end to end:
#   corpus -> BPE tokenizer -> train pocket, then grow + train reference -> ONNX export
#   -> q8 / q4 quantization -> ONNX checks (onnxruntime-node) -> transformers.js eval -> card / parity / examples
# Usage: bash tools/slm/build.sh [--pocket-seconds 1170] [--reference-seconds 2640] [--pocket-steps N]
#        [--reference-steps N] [--only pocket|reference] [--skip-train] [--train-examples 300000]
#        [--per-family N]   (held-out items per family for the Node eval; 0 = all)
# Requirements: apt-get install python3-torch python3-onnx libopenblas0-pthread ; node >= 20 with npm ci done.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
WORK=tools/slm/work
POCKET_S=1170; REF_S=2640; POCKET_STEPS=0; REF_STEPS=0; ONLY=""; SKIP_TRAIN=0; N_TRAIN=300000; PER_FAMILY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pocket-seconds) POCKET_S=$2; shift 2;;
    --reference-seconds) REF_S=$2; shift 2;;
    --pocket-steps) POCKET_STEPS=$2; shift 2;;
    --reference-steps) REF_STEPS=$2; shift 2;;
    --only) ONLY=$2; shift 2;;
    --skip-train) SKIP_TRAIN=1; shift;;
    --train-examples) N_TRAIN=$2; shift 2;;
    --per-family) PER_FAMILY=$2; shift 2;;
    -h|--help) sed -n 2,9p "$0"; exit 0;;
    *) echo "unknown flag $1" >&2; exit 2;;
  esac
done
MODELS="pocket reference"; [ -n "$ONLY" ] && MODELS=$ONLY
mkdir -p "$WORK"

if [ "$SKIP_TRAIN" = 0 ]; then
  echo "== corpus + tokenizer"
  "$PY" tools/slm/corpus.py --out-dir "$WORK" --train "$N_TRAIN"
  "$PY" tools/slm/tok.py --corpus "$WORK/train.jsonl" --out "$WORK/tokenizer.json"
  echo "== training ($MODELS); follow with: tail -f $WORK/<model>/train.log"
  # 1) pocket: from scratch, 1 thread, little data from the hardest families (it cannot learn them in its budget)
  # 2) reference: grown from the trained pocket model (function-preserving: 4 -> 12 layers, MLP 352 -> 512), then
  #    trained on all families with 2 data-parallel processes (1 thread each) -- it needs the pocket checkpoint first.
  for m in $MODELS; do
    rm -f "$WORK/$m/train.log"
    if [ "$m" = pocket ]; then
      "$PY" tools/slm/train.py --preset pocket --batch 32 --seconds "$POCKET_S" --max-steps "$POCKET_STEPS" \
        --lr 3e-3 --warmup 100 --eval-every 300 --family-weights add3=0.1,mul=0.1,reverse=0.1,sort3=0.2 \
        --out "$WORK/pocket" > "$WORK/pocket.stdout.log" 2>&1
    else
      [ -f "$WORK/pocket/ckpt.pt" ] || { echo "the reference model is grown from $WORK/pocket/ckpt.pt: build pocket first" >&2; exit 1; }
      "$PY" tools/slm/train.py --preset reference --grow-from "$WORK/pocket/ckpt.pt" --ddp 2 --batch 32 \
        --seconds "$REF_S" --max-steps "$REF_STEPS" --lr 1.5e-3 --warmup 200 --eval-every 450 \
        --out "$WORK/reference" > "$WORK/reference.stdout.log" 2>&1
    fi
  done
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
