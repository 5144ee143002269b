"""Automatic latent labels in plain words, computed from what a feature dashboard holds: the peak token of each top
example and the token before it, the latent's density and its voice association (and, for latents without
examples, the tokens its decoder row promotes). Every word of a label is computed from those facts; nothing comes
from a hand-written table of meanings.

A label reads `[Voice: ]<what the peak tokens are> '<tok>', '<tok>'[ <shared context>]`, prefixed by
`dense (N% of tokens):` when the latent fires on at least DENSE_THRESHOLD of all tokens, e.g.
`Preacher: capitalised words 'And' after '.'`, `dense (32% of tokens): word pieces 'll', 'val' inside words`.
"""
from collections import Counter

# A latent firing on at least this fraction of held-out tokens is "dense" (flagged in its label, folded under
# "frequent features" in the app). A TopK SAE with k of d_sae latents fires a latent on k/d_sae of tokens on average
# (32/2048 = 1.6% for Voices); 10% is over six times that average. The app reads the same number from
# features.json (`dense_threshold`), so the two never disagree.
DENSE_THRESHOLD = 0.10
# A voice is named when at least this share of the latent's activation mass (per token of each voice) is on it.
VOICE_SHARE = 0.5
# A class or a context is named when at least this share of the peaks has it.
MAJORITY = 0.6
LABEL_VERSION = 1


def token_class(tok, prev=None, nxt=None):
    """Class of a token string as the tokenizer decodes it (byte-level BPE: a leading space marks a word start).
    `prev` and `nxt` (the neighbouring tokens, None when unknown) tell a piece inside a word from one that starts a
    word, and a whole word from the first piece of a longer one."""
    if tok == '<|endoftext|>':
        return 'special'
    core = tok.strip(' \t')
    if '\n' in tok:
        return 'newline'
    if not core:
        return 'space'
    if core.isdigit():
        return 'number'
    if not any(c.isalnum() for c in core):
        return 'punctuation'
    if not tok[0].isspace():
        if prev is None:
            return 'piece'
        if prev[-1:].isalnum():
            return 'inside'
    letters = [c for c in core if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return 'allcaps'
    if core[0].isupper():
        return 'capitalised'
    if core[0].isdigit():
        return 'number'
    if nxt is not None and nxt[:1].isalpha():
        return 'start'
    return 'word'


# How each class is named in a label: (one distinct token, several distinct tokens).
CLASS_WORDS = {
    'newline': ('the line break', 'line breaks'),
    'space': ('the space', 'spaces'),
    'number': ('the number', 'numbers'),
    'punctuation': ('the mark', 'punctuation'),
    'inside': ('word piece {} inside words', 'word pieces {} inside words'),
    'allcaps': ('the all-caps word', 'all-caps words'),
    'capitalised': ('the capitalised word', 'capitalised words'),
    'word': ('the word', 'words'),
    'start': ('words beginning', 'words beginning'),
    'piece': ('the word piece', 'word pieces'),
    'special': ('the special token', 'special tokens'),
}


def quote(tok):
    """A token as it appears in a label: surrounding spaces dropped (the class says whether it starts a word)."""
    core = tok.strip(' \t') or tok
    core = core.replace('\n', '\\n')
    return "'" + (core[:12] + '…' if len(core) > 13 else core) + "'"


def peaks(examples):
    """(token, previous token or None, next token or None) at the strongest position of each example."""
    out = []
    for e in examples:
        acts = e.get('activations') or []
        toks = e.get('tokens') or []
        if not acts or len(acts) != len(toks):
            continue
        p = max(range(len(acts)), key=lambda j: acts[j])
        out.append((toks[p], toks[p - 1] if p > 0 else None, toks[p + 1] if p + 1 < len(toks) else None))
    return out


def describe_tokens(items, cls_of):
    """Phrase for a list of tokens: the majority class with its commonest tokens, or the tokens alone."""
    classes = Counter(cls_of(*item) for item in items)
    cls, n = classes.most_common(1)[0]
    in_class = [item[0] for item in items if cls_of(*item) == cls]
    distinct = [t for t, _ in Counter(quote(t) for t in in_class).most_common(3)]
    shown = ', '.join(distinct[:2])
    if n / len(items) < MAJORITY:
        top = ', '.join(t for t, _ in Counter(quote(item[0]) for item in items).most_common(2))
        return f'mixed tokens {top}'
    one, many = CLASS_WORDS[cls]
    phrase = one if len(distinct) == 1 else many
    return phrase.format(shown) if '{}' in phrase else f'{phrase} {shown}'


def context_phrase(items):
    """What the peaks share in the token before them, when a majority of them does."""
    prevs = [item[1] for item in items if item[1] is not None]
    if len(prevs) < 3:
        return ''
    kinds = Counter('newline' if '\n' in p else quote(p) for p in prevs)
    what, n = kinds.most_common(1)[0]
    if n / len(items) < MAJORITY:
        return ''
    return ' at the start of a line' if what == 'newline' else f' after {what}'


def label_latent(latent, voices, dense_threshold=DENSE_THRESHOLD):
    """Label and label source for one latent of features.json (a dict with `examples`, `density`,
    `voice_distribution`, `top_promoted`). Returns (label, label_source)."""
    examples = latent.get('examples') or []
    density = float(latent.get('density') or 0.0)
    vd = latent.get('voice_distribution') or []
    items = peaks(examples)
    held = sum(1 for e in examples if e.get('split', 'held-out') != 'train')
    if items:
        body = describe_tokens(items, token_class) + context_phrase(items)
        split = 'held-out' if held == len(examples) else 'training' if held == 0 else 'held-out and training'
        source = f"automatic (recipe labels.py v{LABEL_VERSION}): peak tokens of {len(items)} top example{'s' if len(items) != 1 else ''} " \
                 f"({split} text)"
    else:
        promoted = [(t['token'], None, None) for t in (latent.get('top_promoted') or [])[:3]]
        body = ('promotes ' + describe_tokens(promoted, lambda t, p, n: token_class(t))) if promoted else 'no examples'
        source = f'automatic (recipe labels.py v{LABEL_VERSION}): no example fired in the scan; tokens its decoder row promotes'
    parts = []
    if density == 0:
        parts.append('never fired in the held-out scan')
    elif density >= dense_threshold:
        parts.append(f'dense ({density:.0%} of tokens)')
    if vd and max(vd) >= VOICE_SHARE and voices:
        who = voices[max(range(len(vd)), key=lambda i: vd[i])]
        body = f'{who}: {body}'
        source += f'; voice: {max(vd):.0%} of its activation on {who} text'
    label = (parts[0] + ': ' if parts else '') + body
    if density >= dense_threshold:
        source += f'; dense: fires on {density:.1%} of tokens (threshold {dense_threshold:.0%})'
    return label, source


def relabel(features, dense_threshold=DENSE_THRESHOLD):
    """Labels every latent of a features.json object in place; records the dense threshold used."""
    voices = features.get('voices') or []
    for latent in features['latents']:
        latent['label'], latent['label_source'] = label_latent(latent, voices, dense_threshold)
    features['dense_threshold'] = dense_threshold
    return features
