"""Stage 1: extract the five voices from Debian packages into plain text, with a manifest and a
per-voice held-out split (the last val_frac of each voice's paragraphs)."""
import base64, glob, gzip, os, re, subprocess, sys, unicodedata
from common import *

PUNCT = {'\u2018': "'", '\u2019': "'", '\u201c': '"', '\u201d': '"', '\u2014': '--', '\u2013': '-',
         '\u2026': '...', '\u00a0': ' ', '\u00b7': '.', '\u2122': '(TM)', '\u00e6': 'ae', '\u00c6': 'AE',
         '\u0153': 'oe', '\u0152': 'OE', '\u00df': 'ss'}


def to_ascii(s):
    for k, v in PUNCT.items():
        s = s.replace(k, v)
    s = unicodedata.normalize('NFKD', s)
    return s.encode('ascii', 'ignore').decode('ascii')


def reflow(lines):
    """Join wrapped lines into paragraphs (blank line = paragraph break)."""
    paras, cur = [], []
    for ln in lines:
        ln = ln.strip()
        if not ln:
            if cur:
                paras.append(' '.join(cur)); cur = []
        else:
            cur.append(ln)
    if cur:
        paras.append(' '.join(cur))
    return [re.sub(r'\s+', ' ', p) for p in paras]


def preacher():
    out = subprocess.run(['bible', 'Gen1:1-Rev22:21'], capture_output=True, text=True, check=True).stdout
    paras, cur = [], []
    for ln in out.split('\n'):
        if re.match(r'^\S.* \d+$', ln):  # chapter header e.g. "Genesis 1"
            if cur: paras.append(' '.join(cur)); cur = []
            continue
        m = re.match(r'^\s+\d+ (.*)$', ln)
        if m:
            cur.append(m.group(1).strip())
        elif ln.strip():
            cur[-1] += ' ' + ln.strip()
    if cur: paras.append(' '.join(cur))
    # a chapter is too long for one paragraph: break every 4 verses-ish by sentence count
    res = []
    for p in paras:
        verses = re.split(r'(?<=[.:;?!]) (?=[A-Z])', p)
        for i in range(0, len(verses), 4):
            res.append(' '.join(verses[i:i + 4]))
    return res


def novelist():
    out = subprocess.run(['Rscript', '-e', 'library(janeaustenr); b <- austen_books(); '
                          'writeLines(as.character(b$text))'], capture_output=True, text=True, check=True).stdout
    return [p for p in reflow(out.split('\n'))]


def b64(s):
    alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
    v = 0
    for c in s:
        v = v * 64 + alpha.index(c)
    return v


def dict_entries(name, stride=1):
    data = gzip.open(f'/usr/share/dictd/{name}.dict.dz').read()
    seen = set()
    ents = []
    for j, ln in enumerate(open(f'/usr/share/dictd/{name}.index', encoding='utf-8', errors='replace')):
        if j % stride:
            continue
        parts = ln.rstrip('\n').split('\t')
        if len(parts) < 3 or parts[0].startswith('00-database') or parts[0].startswith('00database'):
            continue
        off, ln_ = b64(parts[1]), b64(parts[2])
        if off in seen:
            continue
        seen.add(off)
        ents.append((off, data[off:off + ln_].decode('utf-8', 'replace')))
    ents.sort()
    return [e for _, e in ents]


def hacker():
    paras = []
    for e in dict_entries('jargon'):
        lines = e.split('\n')
        head = lines[0].strip()
        body = reflow(lines[1:])
        body = [b for b in body if not re.fullmatch(r'/.*/,? ?.*', b) or len(b) > 60]
        if not body:
            continue
        txt = ' '.join(body)
        txt = re.sub(r'[{}]', '', txt)
        paras.append(f'{head}: {txt}')
    return paras


def gcide_entry_text(e):
    """One GCIDE entry as one line of text (source tags, pronunciation markup and braces removed), or None for an
    entry that is not from the 1913 Webster or is empty. The Lexicographer's corpus and the control fine-tune
    (finetune.py) both read entries through this."""
    if '[1913 Webster]' not in e:
        return None
    e = re.sub(r'\[(1913 Webster|Webster 1913 Suppl\.|PJC|WordNet[^\]]*|Century Dict\.)\]', '', e)
    ps = reflow(e.split('\n'))
    if not ps:
        return None
    # headword line: "Abdication \Ab`di*ca"tion\, n. [L. ...]" -> drop the pronunciation markup
    ps[0] = re.sub(r'\\[^\\]*\\', '', ps[0]).replace(' ,', ',')
    txt = ' '.join(ps)
    return re.sub(r'\s+', ' ', txt.replace('{', '').replace('}', '')).strip()


def lexicographer(max_bytes):
    ents = dict_entries('gcide', stride=max(1, int(20e6 / max_bytes)) if max_bytes < 1e6 else 1)
    paras = []
    for e in ents:
        txt = gcide_entry_text(e)
        if txt is not None and len(txt) > 40:
            paras.append(txt)
    # evenly sample across the alphabet to about max_bytes
    total = sum(len(p) + 2 for p in paras)
    step = max(1, int(total / max_bytes + 0.999))
    return paras[::step]


ESC = {'em': '--', 'en': '-', 'aq': "'", 'dq': '"', 'lq': '"', 'rq': '"', 'oq': "'", 'cq': "'", 'bu': '*',
       'ga': '`', 'ha': '^', 'ti': '~', 'rs': '\\', 'mi': '-', 'pl': '+', 'eq': '=', 'co': '(C)', 'rg': '(R)',
       'tm': '(TM)', 'mu': 'x', 'di': '/', 'ge': '>=', 'le': '<=', 'ne': '!=', '->': '->', '<-': '<-', 'hy': '-',
       'Fo': '<<', 'Fc': '>>', 'fo': '<', 'fc': '>', 'at': '@', 'sh': '#', 'Do': '$', 'ba': '|', 'or': '|',
       'br': '|', 'lB': '[', 'rB': ']', 'lC': '{', 'rC': '}', 'la': '<', 'ra': '>', 'sl': '/', 'sq': '*', 'de': ' degrees'}


def roff_inline(s):
    s = re.sub(r'\\f(\[[^\]]*\]|\(..|.)', '', s)
    s = re.sub(r'\\\*(\[[^\]]*\]|\(..|.)', lambda m: {'(lq': '"', '(rq': '"', 'R': '(R)', '(Tm': '(TM)'}.get(m.group(1), ''), s)
    s = re.sub(r'\\\[([^\]]*)\]', lambda m: ESC.get(m.group(1), ''), s)
    s = re.sub(r'\\\((..)', lambda m: ESC.get(m.group(1), ''), s)
    s = s.replace('\\-', '-').replace('\\e', '\\').replace('\\&', '').replace('\\~', ' ').replace('\\ ', ' ')
    s = s.replace('\\0', ' ').replace('\\|', '').replace('\\^', '').replace('\\c', '').replace("\\'", "'")
    s = s.replace('\\:', '').replace('\\%', '').replace('\\/', '').replace('\\,', '')
    s = re.sub(r'\\[sh]([+-]?\d+|\'[^\']*\'|\[[^\]]*\])', '', s)
    s = re.sub(r'\\[a-zA-Z]', '', s)
    return s


def macro_args(rest):
    args, cur, inq, i = [], '', False, 0
    while i < len(rest):
        c = rest[i]
        if c == '"':
            if inq and i + 1 < len(rest) and rest[i + 1] == '"':
                cur += '"'; i += 2; continue
            inq = not inq
        elif c in ' \t' and not inq:
            if cur: args.append(cur); cur = ''
        else:
            cur += c
        i += 1
    if cur: args.append(cur)
    return args


def roff_to_text(src):
    lines, out = src.split('\n'), []
    cur = []
    nofill = False

    def flush():
        if cur:
            out.append(re.sub(r'\s+', ' ', ' '.join(cur)).strip()); cur.clear()
    for ln in lines:
        if ln.startswith('.\\"') or ln.startswith("'\\\"") or ln.startswith('\\"'):
            continue
        if ln.startswith('.') or ln.startswith("'"):
            m = re.match(r"^[.'] *([A-Za-z]+)\s*(.*)$", ln)
            if not m:
                continue
            mac, rest = m.group(1), m.group(2)
            if mac in ('SH', 'SS'):
                flush(); t = roff_inline(' '.join(macro_args(rest))).strip()
                if t: out.append(t.upper() if mac == 'SH' else t)
            elif mac in ('B', 'I', 'SM', 'SB'):
                cur.append(roff_inline(' '.join(macro_args(rest))))
            elif mac in ('BR', 'RB', 'IR', 'RI', 'BI', 'IB'):
                cur.append(roff_inline(''.join(macro_args(rest))))
            elif mac in ('PP', 'P', 'LP', 'sp', 'br', 'RE', 'RS', 'in', 'EX', 'EE'):
                flush()
            elif mac in ('nf',):
                flush(); nofill = True
            elif mac in ('fi',):
                flush(); nofill = False
            elif mac in ('TP', 'TQ'):
                flush()
            elif mac in ('IP',):
                flush(); a = macro_args(rest)
                if a and a[0] not in ('*', '\\(bu', '\\[bu]'):
                    cur.append(roff_inline(a[0]))
            elif mac in ('UR', 'MT'):
                cur.append(roff_inline(' '.join(macro_args(rest))))
            continue
        t = roff_inline(ln)
        if nofill:
            if t.strip(): out.append(t.rstrip())
        else:
            if not t.strip():
                flush()
            else:
                cur.append(t.strip())
    flush()
    return out


def manual(max_bytes):
    files = subprocess.run(['dpkg', '-L', 'manpages', 'manpages-dev'], capture_output=True, text=True, check=True).stdout.split()
    files = sorted(f for f in files if re.match(r'^/usr/share/man/man[2-57]/.*\.gz$', f) and os.path.isfile(f))
    if max_bytes < 1e6:  # smoke: a spread subset of the pages is plenty
        files = files[::max(1, int(3e6 / max_bytes))]
    paras = []
    for f in files:
        try:
            src = gzip.open(f).read().decode('utf-8', 'replace')
        except OSError:
            continue
        if src.lstrip().startswith('.so '):
            continue
        ps = roff_to_text(src)
        ps = [p for p in ps if p and not p.startswith('Linux man-pages')]
        if len(ps) > 3:
            paras.extend(ps)
            paras.append('')
    # join consecutive non-empty items; '' separates pages
    text_paras = [p for p in paras if p]
    total = sum(len(p) + 2 for p in text_paras)
    if total > max_bytes:  # keep whole pages, evenly spread
        pages, cur = [], []
        for p in paras:
            if p: cur.append(p)
            elif cur: pages.append(cur); cur = []
        sizes = sum(sum(len(x) + 2 for x in pg) for pg in pages)
        step = sizes / max_bytes
        keep, acc = [], 0.0
        for i, pg in enumerate(pages):
            if int(i / step) != int((i - 1) / step) or step <= 1:
                keep.extend(pg)
        text_paras = keep
    return text_paras


def pkg_version(p):
    r = subprocess.run(['dpkg-query', '-W', '-f=${Version}', p], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def main():
    cfg = get_cfg()
    mb = cfg['max_bytes_per_voice']
    d = os.path.join(cfg['cache'], 'corpus')
    os.makedirs(d, exist_ok=True)
    manifest = dict(voices=[])
    for v in VOICES:
        t0 = time.time()
        fn = dict(preacher=preacher, novelist=novelist, hacker=hacker)
        if v['id'] in fn:
            paras = fn[v['id']]()
        elif v['id'] == 'lexicographer':
            paras = lexicographer(mb * 1.05)
        else:
            paras = manual(mb * 1.05)
        paras = [to_ascii(p).strip() for p in paras]
        paras = [re.sub(r'[ \t]+', ' ', p) for p in paras if p]
        # cap (keep an evenly spread subset of paragraphs if over the cap)
        total = sum(len(p) + 2 for p in paras)
        if total > mb:
            keep, acc = [], 0
            step = total / mb
            idx = 0.0
            sel = []
            # evenly spread paragraph blocks of 20
            blocks = [paras[i:i + 20] for i in range(0, len(paras), 20)]
            nb = max(1, int(len(blocks) / step))
            pick = np.linspace(0, len(blocks) - 1, nb).round().astype(int)
            for i in sorted(set(pick.tolist())):
                sel.extend(blocks[i])
            paras = sel
        n_val = max(1, int(len(paras) * cfg['val_frac']))
        train, val = paras[:-n_val], paras[-n_val:]
        tr = '\n\n'.join(train) + '\n\n'
        va = '\n\n'.join(val) + '\n\n'
        with open(os.path.join(d, f"{v['id']}.train.txt"), 'w') as f: f.write(tr)
        with open(os.path.join(d, f"{v['id']}.val.txt"), 'w') as f: f.write(va)
        full = (tr + va).encode()
        manifest['voices'].append(dict(
            id=v['id'], name=v['name'], source=v['source'], licence=v['licence'], description=v['description'],
            packages=[dict(name=p, version=pkg_version(p)) for p in v['packages']],
            bytes=len(full), train_bytes=len(tr.encode()), val_bytes=len(va.encode()),
            paragraphs=len(paras), sha256=sha256_bytes(full),
            sha256_train=sha256_bytes(tr.encode()), sha256_val=sha256_bytes(va.encode())))
        log(f"corpus {v['id']}: {len(full)/1e6:.2f} MB, {len(paras)} paragraphs ({time.time()-t0:.1f}s)")
        if cfg['thresholds'] and len(full) < 1_000_000:
            raise SystemExit(f"voice {v['id']} has only {len(full)} bytes (< 1 MB)")
    write_json(os.path.join(d, 'manifest.json'), manifest, indent=1)


if __name__ == '__main__':
    main()
