#!/usr/bin/env bash
# Voices recipe: corpus -> tokenizer -> LM -> ONNX (fp32 + q4) + parity -> SAE -> dashboards/personas/eval/golden
# -> relabel (labels, examples files, monitor calibration: what relabel.py redoes on an existing build).
#   bash models/recipe/build.sh            full build into models/voices/   (npm run models:build)
#   bash models/recipe/build.sh --smoke    tiny config into models/voices-smoke/ in seconds (npm run models:smoke)
#   bash models/recipe/build.sh --variants [--smoke]   only the persona-emergence stages (finetune.py ->
#                                           variants_export.py -> emergence.py) on the existing build: the base's
#                                           files are read, never retrained or rewritten (corpus caches are rebuilt
#                                           first when missing, and the retrained tokenizer must equal the shipped one)
#   bash models/recipe/build.sh --q4-from-shipped [--smoke]   only the q4 graphs' int8 token embedding
#                                           (q4_from_shipped.py) on the existing build: the base's and the variant
#                                           folders' model_q4.onnx rebuilt from the shipped fp32 model.onnx's
#                                           embedding rows (a variant's: its own q4 graph's), MatMulNBits kept byte
#                                           for byte, no retraining; then parity.mjs --q4-only's top-1 agreement into
#                                           eval.json and the model card
#   extra flags: --retrain (ignore a finished LM checkpoint in models/.cache)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
SMOKE=""; RETRAIN=""; VARIANTS_ONLY=""; Q4_ONLY=""
for a in "$@"; do
  case "$a" in
    --smoke) SMOKE="--smoke" ;;
    --variants) VARIANTS_ONLY=1 ;;
    --q4-from-shipped) Q4_ONLY=1 ;;
    --retrain) RETRAIN="--force" ;;
    *) echo "unknown flag $a" >&2; exit 2 ;;
  esac
done
PY=/usr/bin/python3
PKGS="bible-kjv-text bible-kjv manpages manpages-dev dict-gcide dict-jargon r-cran-janeaustenr python3-regex python3-onnx python3-torch python3-numpy libopenblas0-pthread r-base-core"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "apt-get install:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends $missing >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing >/dev/null; }
  else
    echo "missing Debian packages:$missing (run as root or install them)" >&2; exit 1
  fi
fi
[ -d node_modules/onnxruntime-node ] && [ -d node_modules/@huggingface/tokenizers ] || { echo "run npm ci first (onnxruntime-node, @huggingface/tokenizers)" >&2; exit 1; }

if [ -n "$SMOKE" ]; then
  OUT=models/voices-smoke; CACHE=models/.cache/smoke; RETRAIN="--force"
  [ -n "$VARIANTS_ONLY$Q4_ONLY" ] || rm -rf "$OUT" "$CACHE"
else
  OUT=models/voices; CACHE=models/.cache/full
fi
export PYTHONHASHSEED=0 VOICES_THREADS=${VOICES_THREADS:-2}
t0=$(date +%s)

# persona emergence (finetune -> q4 export -> evaluation + the lab's files); models/voices*-{hacker-ft,...} siblings
variants() {
  cd "$ROOT/models/recipe"
  local ts; ts=$(date +%s)
  if ! ls "$ROOT/$CACHE"/corpus/*.train.npy >/dev/null 2>&1; then
    $PY corpus.py $SMOKE
    $PY bpe.py $SMOKE --check-shipped
  fi
  # one torch thread: on the shared 2-core machine two threads ran these small ops up to 10x slower (smoke emergence:
  # 88 s vs 8 s of CPU), and the committed variants were built with one thread (float reductions depend on it)
  local th=${VOICES_VARIANTS_THREADS:-1}
  VOICES_THREADS=$th $PY -W ignore finetune.py $SMOKE;        echo "finetune.py: $(( $(date +%s) - ts ))s"; ts=$(date +%s)
  VOICES_THREADS=$th $PY -W ignore variants_export.py $SMOKE; echo "variants_export.py: $(( $(date +%s) - ts ))s"; ts=$(date +%s)
  VOICES_THREADS=$th $PY -W ignore emergence.py $SMOKE;       echo "emergence.py: $(( $(date +%s) - ts ))s"
  cd "$ROOT"
  for f in variants.json voice-classifier.json emergence-golden.json; do
    [ -s "$OUT/$f" ] || { echo "missing $OUT/$f" >&2; exit 1; }
  done
  local folders; folders=$($PY -c "import json; print(' '.join(v['folder'] for v in json.load(open('$OUT/variants.json'))['variants'] if v['folder'] != './'))")
  local total=0
  for d in $folders; do
    for f in config.json tokenizer.json tokenizer_config.json generation_config.json onnx/model_q4.onnx README.md; do
      [ -s "$OUT/$d$f" ] || { echo "missing $OUT/$d$f" >&2; exit 1; }
    done
    total=$(( total + $(du -sb "$OUT/$d" | cut -f1) ))
  done
  echo "variant folders: $total bytes ($folders)"
  if [ -z "$SMOKE" ] && [ "$total" -gt 41943040 ]; then echo "the variant folders exceed 40 MB" >&2; exit 1; fi
  local size; size=$(du -sb "$OUT" | cut -f1)
  echo "$OUT with the emergence files: $size bytes"
  if [ -z "$SMOKE" ] && [ "$size" -gt 31457280 ]; then echo "models/voices exceeds 30 MB" >&2; exit 1; fi
}
if [ -n "$Q4_ONLY" ]; then
  for f in tokenizer.json onnx/model.onnx onnx/model_q4.onnx eval.json; do
    [ -s "$OUT/$f" ] || { echo "--q4-from-shipped needs an existing build in $OUT (missing $f)" >&2; exit 1; }
  done
  cd "$ROOT/models/recipe"
  ls "$ROOT/$CACHE"/corpus/*.val.txt >/dev/null 2>&1 || $PY corpus.py $SMOKE
  $PY -W ignore q4_from_shipped.py $SMOKE
  cd "$ROOT"
  node models/recipe/parity.mjs "$OUT" "$CACHE" --q4-only
  cd "$ROOT/models/recipe"
  $PY q4_from_shipped.py $SMOKE --record
  echo "q4 graphs from the shipped build in $(( $(date +%s) - t0 ))s"
  exit 0
fi
if [ -n "$VARIANTS_ONLY" ]; then
  for f in tokenizer.json onnx/model.onnx onnx/model_q4.onnx eval.json; do
    [ -s "$OUT/$f" ] || { echo "--variants needs an existing build in $OUT (missing $f)" >&2; exit 1; }
  done
  variants
  echo "variants stages in $(( $(date +%s) - t0 ))s"
  exit 0
fi
cd models/recipe
$PY corpus.py $SMOKE
$PY bpe.py $SMOKE
$PY train.py $SMOKE $RETRAIN
$PY -W ignore export.py $SMOKE
cd "$ROOT"
node models/recipe/parity.mjs "$OUT" "$CACHE" ${SMOKE:+} $([ -z "$SMOKE" ] && echo --thresholds)
cd models/recipe
$PY sae.py $SMOKE
$PY analyze.py $SMOKE
# relabel.py relabels an existing build in place; on the build analyze.py just wrote it must change nothing
tree_hash() { (cd "$ROOT/$OUT" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum); }
before=$(tree_hash)
$PY relabel.py $SMOKE
[ "$before" = "$(tree_hash)" ] || { echo "relabel.py changed the fresh build in $OUT (analyze.py and relabel.py disagree)" >&2; exit 1; }
cd "$ROOT"
for f in config.json tokenizer.json tokenizer_config.json onnx/model.onnx onnx/model_q4.onnx eval.json golden.json README.md; do
  [ -s "$OUT/$f" ] || { echo "missing $OUT/$f" >&2; exit 1; }
done
for f in cfg.json sae_weights.safetensors features.json personas.json examples/0000.json; do
  ls "$OUT"/sae/*/"$f" >/dev/null || { echo "missing $OUT/sae/*/$f" >&2; exit 1; }
done
size=$(du -sb "$OUT" | cut -f1)
echo "$OUT: $(du -sh "$OUT" | cut -f1) ($size bytes) in $(( $(date +%s) - t0 ))s"
if [ -z "$SMOKE" ] && [ "$size" -gt 31457280 ]; then echo "models/voices exceeds 30 MB" >&2; exit 1; fi
variants
echo "all stages in $(( $(date +%s) - t0 ))s"
