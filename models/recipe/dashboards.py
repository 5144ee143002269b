"""Writes the feature dashboards in the layout the app reads: `features.json` (labels, density, voices, logits: what
the first view needs) and the top examples in `examples/NNNN.json`, one file per EXAMPLES_PER_FILE latents, fetched
only when a feature card opens. The format is described in the model card (FORMAT below is pasted into it)."""
import json, os, shutil

EXAMPLES_PER_FILE = 64

FORMAT = """`features.json` holds one entry per latent: `id`, `label` (automatic, see `label_source`), `label_source`,
`density` (fraction of held-out tokens on which the latent is among the top k), `max_activation` (largest activation
seen), `voice_distribution` (share of the latent's activation per token of each voice, in `voices` order),
`top_promoted` / `top_suppressed` (tokens whose logits the decoder row raises / lowers most through the unembedding).
Top-level keys: `hook_name`, `d_sae`, `voices`, `scan_tokens`, `split`, `dense_threshold` (latents at or above this
density are labelled dense and folded under "frequent features" in the app) and `examples` = `{"path":
"examples/{index}.json", "per_file": N}`. The top examples of latent `i` are in file `index = floor(i / N)`, written
with four digits (`examples/0000.json` holds latents 0 to N-1): `{"first": i0, "latents": [[example, ...], ...]}`
with one list per latent from `i0` on; an example is `{"voice", "tokens", "activations", "max"}` (plus `"split":
"train"` when it was topped up from training text because the latent is rare on held-out text). The app loads an
examples file only when a card of one of its latents opens."""


def merged(features, sae_dir):
    """features.json with every latent's examples inline (read back from the examples files when split)."""
    spec = features.get('examples')
    if not isinstance(spec, dict):
        return features
    n = spec['per_file']
    cache = {}
    for latent in features['latents']:
        idx = latent['id'] // n
        if idx not in cache:
            path = os.path.join(sae_dir, spec['path'].format(index=f'{idx:04d}'))
            cache[idx] = json.load(open(path)) if os.path.exists(path) else dict(first=idx * n, latents=[])
        chunk = cache[idx]
        j = latent['id'] - chunk['first']
        latent['examples'] = chunk['latents'][j] if 0 <= j < len(chunk['latents']) else []
    del features['examples']
    return features


def write_split(features, sae_dir, per_file=EXAMPLES_PER_FILE):
    """Writes features.json without examples plus the examples files; returns (features bytes, examples bytes)."""
    ex_dir = os.path.join(sae_dir, 'examples')
    shutil.rmtree(ex_dir, ignore_errors=True)
    os.makedirs(ex_dir)
    by_id = {l['id']: l.pop('examples', []) for l in features['latents']}
    d_sae = features.get('d_sae', len(by_id))
    ex_bytes = 0
    for idx in range((d_sae + per_file - 1) // per_file):
        first = idx * per_file
        chunk = dict(first=first, latents=[by_id.get(i, []) for i in range(first, min(d_sae, first + per_file))])
        blob = json.dumps(chunk, separators=(',', ':'), ensure_ascii=False).encode()
        with open(os.path.join(ex_dir, f'{idx:04d}.json'), 'wb') as f:
            f.write(blob)
        ex_bytes += len(blob)
    features['examples'] = dict(path='examples/{index}.json', per_file=per_file)
    blob = json.dumps(features, separators=(',', ':'), ensure_ascii=False).encode()
    with open(os.path.join(sae_dir, 'features.json'), 'wb') as f:
        f.write(blob)
    for l in features['latents']:  # leave the caller's object as it was
        l['examples'] = by_id[l['id']]
    del features['examples']
    return len(blob), ex_bytes


def card_section(features, personas_json, wins, features_bytes, examples_bytes):
    """The model card's "Feature dashboards" section: the format, the labelling rule, the dense threshold and the
    persona monitor calibration, with the numbers of this build."""
    from labels import DENSE_THRESHOLD, VOICE_SHARE, MAJORITY
    lat = features['latents']
    dense = sum(1 for l in lat if l['density'] >= features.get('dense_threshold', DENSE_THRESHOLD))
    cal = '\n'.join(
        f"| {p['name']} | {p['default_use']} | {p['monitor']['own_mean']:.3g} | {p['monitor']['others_mean']:.3g} | "
        f"{wins.get(p['id'], {}).get('own_persona_highest', float('nan')):.0%} |"
        for p in personas_json['personas'] if 'monitor' in p)
    return f"""## Feature dashboards

`sae/{features['hook_name']}/features.json` ({features_bytes/1e6:.2f} MB) and `examples/` ({examples_bytes/1e6:.2f} MB in
{(features['d_sae'] + EXAMPLES_PER_FILE - 1) // EXAMPLES_PER_FILE} files), from {features['scan_tokens']:,} held-out tokens.

{FORMAT}

Labels are written by `models/recipe/labels.py` from the dashboard alone: the token at the peak of each top example
(its class: punctuation, number, capitalised or all-caps word, whole word, the start of a longer word, or a piece
inside a word, told apart by the leading space and the neighbouring tokens), the token before the peaks when at
least {MAJORITY:.0%} of them share it ("after '.'", "at the start of a line"), the voice when at least
{VOICE_SHARE:.0%} of the latent's activation is on it, and "dense (N% of tokens)" at or above a density of
{features.get('dense_threshold', DENSE_THRESHOLD):.0%} ({dense} of {len(lat)} latents). Latents without examples are
described by the tokens their decoder row promotes. `label_source` says which of these facts a label rests on.
`python3 models/recipe/relabel.py` relabels an existing build in place.

Persona monitor calibration (`monitor` in each persona of personas.json): the app's persona bars show the mean of
the monitor's per-token reading over the text (vector personas: residual · unit vector; latent personas:
Σ cᵢaᵢ / Σ|cᵢ|) on the scale `(reading − others_mean) / (own_mean − others_mean)`, 0 = as on the other voices'
held-out sentences, 1 = as on the persona's own (first half of each voice's held-out paragraphs, 8-30 words, up to
60 sentences per voice). On up to 60 sentences from the second half, the voice's own persona reads highest this
often:

| persona | monitor | own mean | others mean | own persona highest |
|---|---|---|---|---|
{cal}

`golden.json` → `voice_prompts`: the first such sentence of the second half of each voice's held-out text, with its
paragraph, for the browser test that the voice's own persona bar is the highest.
"""


def files_section(out):
    """The model card's list of files and sizes (the examples folder as one line; the card itself is not listed, so
    that the list is the same before and after the card is written)."""
    sizes = {}
    for root, _, files in os.walk(out):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), out)
            if rel == 'README.md':
                continue
            key = os.path.dirname(rel) + '/' if os.path.basename(os.path.dirname(rel)) == 'examples' else rel
            sizes[key] = sizes.get(key, 0) + os.path.getsize(os.path.join(root, f))
    return '## Files\n\n' + '\n'.join(f'- `{k}` — {v/1e6:.2f} MB' for k, v in sorted(sizes.items())) + '\n'
