#!/usr/bin/env bash
# Build the embedded chat models end to end:
#   corpus -> BPE tokenizer -> train pocket + reference (in parallel, 1 thread each) -> ONNX export
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
  echo "== training ($MODELS) in parallel; follow with: tail -f $WORK/<model>/train.log"
  pids=()
  for m in $MODELS; do
    if [ "$m" = pocket ]; then S=$POCKET_S; N=$POCKET_STEPS; LR=3e-3; WU=100; EV=300; else S=$REF_S; N=$REF_STEPS; LR=2e-3; WU=200; EV=450; fi
    rm -f "$WORK/$m/train.log"
    "$PY" tools/slm/train.py --preset "$m" --seconds "$S" --max-steps "$N" --lr "$LR" --warmup "$WU" \
      --eval-every "$EV" --out "$WORK/$m" > "$WORK/$m.stdout.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
fi

for m in $MODELS; do
  NAME=slm-$m; OUT=public/models/$NAME
  echo "== export $NAME"
  "$PY" tools/slm/export.py --ckpt "$WORK/$m/ckpt.pt" --name "$NAME" --out "$OUT" 2>&1 | grep -v -i warning
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
