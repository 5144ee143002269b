"""Stage 2: byte-level BPE trained from scratch (GPT-2 pre-tokenisation + ByteLevel alphabet), written in the
Hugging Face `tokenizers` JSON format; plus a Python encoder that applies the merges by rank, and the
token-id arrays for every voice."""
import heapq
from collections import Counter, defaultdict
import regex
from common import *

PAT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('\xa1'), ord('\xac') + 1)) + list(range(ord('\xae'), ord('\xff') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


B2U = bytes_to_unicode()
U2B = {v: k for k, v in B2U.items()}


def train_bpe(texts, vocab_size):
    counts = Counter()
    for t in texts:
        counts.update(PAT.findall(t))
    words = [list(w.encode('utf-8')) for w in counts]
    freqs = list(counts.values())
    # symbols: ids 0..255 are bytes (in byte order); merges create new ids
    sym_str = [B2U[b] for b in range(256)]
    pair_counts = defaultdict(int)
    where = defaultdict(set)
    for wi, w in enumerate(words):
        f = freqs[wi]
        for a, b in zip(w, w[1:]):
            pair_counts[(a, b)] += f
            where[(a, b)].add(wi)
    heap = [(-c, sym_str[p[0]], sym_str[p[1]], p) for p, c in pair_counts.items()]
    heapq.heapify(heap)
    merges = []
    n_merges = vocab_size - 256 - 1
    while len(merges) < n_merges and heap:
        negc, _, _, pair = heapq.heappop(heap)
        c = pair_counts.get(pair, 0)
        if c != -negc or c <= 0:
            continue
        new_id = len(sym_str)
        sym_str.append(sym_str[pair[0]] + sym_str[pair[1]])
        merges.append(pair)
        changed = defaultdict(int)
        for wi in list(where[pair]):
            w = words[wi]; f = freqs[wi]
            i = 0; nw = []
            # remove old pair counts of this word
            for a, b in zip(w, w[1:]):
                changed[(a, b)] -= f
            while i < len(w):
                if i < len(w) - 1 and w[i] == pair[0] and w[i + 1] == pair[1]:
                    nw.append(new_id); i += 2
                else:
                    nw.append(w[i]); i += 1
            for a, b in zip(nw, nw[1:]):
                changed[(a, b)] += f
                where[(a, b)].add(wi)
            words[wi] = nw
        del where[pair]
        for p, dc in changed.items():
            if dc == 0:
                continue
            pair_counts[p] += dc
            if pair_counts[p] > 0:
                heapq.heappush(heap, (-pair_counts[p], sym_str[p[0]], sym_str[p[1]], p))
            else:
                pair_counts.pop(p, None)
        pair_counts.pop(pair, None)
    return sym_str, merges


def build_tokenizer_json(sym_str, merges, n_ctx):
    vocab = {s: i for i, s in enumerate(sym_str)}
    eot_id = len(sym_str)
    vocab[EOT] = eot_id
    tok = {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [{'id': eot_id, 'content': EOT, 'single_word': False, 'lstrip': False, 'rstrip': False,
                          'normalized': True, 'special': True}],
        'normalizer': None,
        'pre_tokenizer': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True},
        'post_processor': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': False, 'use_regex': True},
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': '',
                  'end_of_word_suffix': '', 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                  'vocab': vocab, 'merges': [[sym_str[a], sym_str[b]] for a, b in merges]},
    }
    cfg = {'tokenizer_class': 'GPT2Tokenizer', 'bos_token': EOT, 'eos_token': EOT, 'unk_token': EOT,
           'add_prefix_space': False, 'add_bos_token': False, 'model_max_length': n_ctx,
           'clean_up_tokenization_spaces': False}
    return tok, cfg


class Encoder:
    def __init__(self, tok_json):
        m = tok_json['model']
        self.vocab = m['vocab']
        self.inv = {i: s for s, i in self.vocab.items()}
        self.ranks = {tuple(p if isinstance(p, list) else p.split(' ')): i for i, p in enumerate(m['merges'])}
        self.cache = {}
        self.eot_id = self.vocab[EOT]

    def bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = [B2U[b] for b in word.encode('utf-8')]
        while len(parts) > 1:
            best, bi = None, -1
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if best is None:
                break
            a, b = parts[bi], parts[bi + 1]
            np_, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == a and parts[i + 1] == b:
                    np_.append(a + b); i += 2
                else:
                    np_.append(parts[i]); i += 1
            parts = np_
        ids = [self.vocab[p] for p in parts]
        if len(self.cache) < 500_000:
            self.cache[word] = ids
        return ids

    def encode(self, text):
        out = []
        for j, chunk in enumerate(text.split(EOT)):
            if j:
                out.append(self.eot_id)
            for w in PAT.findall(chunk):
                out.extend(self.bpe(w))
        return out

    def token_str(self, i):
        s = self.inv[i]
        if s == EOT:
            return s
        bs = bytes(U2B[c] for c in s)
        try:
            return bs.decode('utf-8')
        except UnicodeDecodeError:  # a partial UTF-8 sequence: show the bytes
            return ''.join(f'<0x{x:02X}>' for x in bs)

    def decode(self, ids):
        bs = b''
        for i in ids:
            s = self.inv[i]
            bs += s.encode() if s == EOT else bytes(U2B[c] for c in s)
        return bs.decode('utf-8', 'replace')


def load_encoder(out_dir):
    return Encoder(read_json(os.path.join(out_dir, 'tokenizer.json')))


def main():
    cfg = get_cfg()
    d = os.path.join(cfg['cache'], 'corpus')
    t0 = time.time()
    texts = [open(os.path.join(d, f"{v['id']}.train.txt")).read() for v in VOICES]
    sym_str, merges = train_bpe(texts, cfg['vocab_size'])
    log(f'bpe: {len(merges)} merges in {time.time()-t0:.1f}s')
    tok, tcfg = build_tokenizer_json(sym_str, merges, cfg['n_ctx'])
    if '--check-shipped' in sys.argv:
        # rebuilding caches for an existing build (build.sh --variants): the retrained tokenizer must equal the
        # shipped one byte for byte, so the shipped model's token ids are the ones the caches hold; nothing is written
        # into the model folder
        for name, obj, ind in (('tokenizer.json', tok, None), ('tokenizer_config.json', tcfg, 2)):
            shipped = open(os.path.join(cfg['out'], name), 'rb').read()
            mine = (json.dumps(obj, indent=ind, ensure_ascii=False) + '\n').encode()
            if mine != shipped:
                raise SystemExit(f"bpe --check-shipped: the retrained {name} differs from {cfg['out']}/{name} "
                                 f"(sha256 {sha256_bytes(mine)[:16]} vs {sha256_bytes(shipped)[:16]}): the corpus or "
                                 'the packages changed, so the caches would not hold the shipped token ids')
        man = read_json(os.path.join(d, 'manifest.json'))['voices']
        shipped_man = read_json(os.path.join(cfg['out'], 'manifest.json'))['voices']
        bad = [a['id'] for a, b in zip(man, shipped_man) if (a['sha256'], a['sha256_train'], a['sha256_val']) != (b['sha256'], b['sha256_train'], b['sha256_val'])]
        if bad or len(man) != len(shipped_man):
            raise SystemExit(f"bpe --check-shipped: the regenerated corpus differs from {cfg['out']}/manifest.json for {bad}")
        log(f"bpe: retrained tokenizer.json and tokenizer_config.json equal the shipped files byte for byte "
            f"(sha256 {sha256_bytes(open(os.path.join(cfg['out'], 'tokenizer.json'), 'rb').read())[:16]})")
    else:
        write_json(os.path.join(cfg['out'], 'tokenizer.json'), tok)
        write_json(os.path.join(cfg['out'], 'tokenizer_config.json'), tcfg, indent=2)
    enc = Encoder(tok)
    t0 = time.time()
    for v in VOICES:
        for split in ('train', 'val'):
            ids = enc.encode(open(os.path.join(d, f"{v['id']}.{split}.txt")).read())
            np.save(os.path.join(d, f"{v['id']}.{split}.npy"), np.array(ids, dtype=np.int16 if cfg['vocab_size'] < 32768 else np.int32))
            if split == 'train':
                log(f"tokens {v['id']}: {len(ids)} train")
    s = "Hello world! The LORD said unto Moses, 'Let my people go.' -- errno EINVAL\n\n  x = 3.14;"
    assert enc.decode(enc.encode(s)) == s
    # fixtures for the JS round-trip test
    samples = ["In the beginning God created the heaven and the earth.",
               "The open() system call returns -1 and sets errno to EINVAL.",
               "It is a truth universally acknowledged, that a single man in possession of a good fortune",
               "kludge: n. A clever programming trick (1970s)  --  see also hack!\n\nNew paragraph\t\ttabs",
               "Caf\u00e9 na\u00efve \u2014 \u201cquotes\u201d 12345 \U0001F600 <|endoftext|>"]
    write_json(os.path.join(cfg['cache'], 'tokenizer_fixtures.json'),
               [dict(text=t, ids=enc.encode(t)) for t in samples], indent=1)
    log(f'encode all: {time.time()-t0:.1f}s')


if __name__ == '__main__':
    main()
