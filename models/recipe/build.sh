#!/usr/bin/env bash
# Voices recipe: corpus -> tokenizer -> LM -> ONNX (fp32 + q4) + parity -> SAE -> dashboards/personas/eval/golden
# -> relabel (labels, examples files, monitor calibration: what relabel.py redoes on an existing build).
#   bash models/recipe/build.sh            full build into models/voices/   (npm run models:build)
#   bash models/recipe/build.sh --smoke    tiny config into models/voices-smoke/ in seconds (npm run models:smoke)
#   extra flags: --retrain (ignore a finished LM checkpoint in models/.cache)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
SMOKE=""; RETRAIN=""
for a in "$@"; do
  case "$a" in
    --smoke) SMOKE="--smoke" ;;
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
  rm -rf "$OUT" "$CACHE"
else
  OUT=models/voices; CACHE=models/.cache/full
fi
export PYTHONHASHSEED=0 VOICES_THREADS=${VOICES_THREADS:-2}
t0=$(date +%s)
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
