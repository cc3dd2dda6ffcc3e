"""Byte-level BPE tokenizer (GPT-2 / Qwen2 style) + ChatML rendering, written with the stdlib only.

The encoder here must produce exactly what transformers.js (@huggingface/tokenizers) produces from the
tokenizer.json written by `to_tokenizer_json`:
  1. split the text on the special (added) tokens,
  2. pre-tokenize each piece with the Split regex PATTERN (behaviour Isolated; the pattern matches every
     character, so this equals re.findall), then map bytes to unicode (ByteLevel, use_regex=false),
  3. BPE: repeatedly merge the adjacent pair with the lowest merge rank (leftmost on ties).
"""
import collections
import json
import re

# Letters grouped (with an optional leading space), every digit on its own, punctuation runs,
# whitespace as in GPT-2. Plain ASCII classes so Python `re` and JS RegExp agree exactly.
PATTERN = r" ?[A-Za-z]+|[0-9]| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+"
_PAT = re.compile(PATTERN)

ENDOFTEXT, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
SPECIALS = [ENDOFTEXT, IM_START, IM_END]
_SPECIAL_RE = re.compile("(" + "|".join(re.escape(s) for s in SPECIALS) + ")")

CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def render_chat(messages, add_generation_prompt=False):
    s = "".join(f"{IM_START}{m['role']}\n{m['content']}{IM_END}\n" for m in messages)
    if add_generation_prompt:
        s += f"{IM_START}assistant\n"
    return s


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


B2U = bytes_to_unicode()
U2B = {v: k for k, v in B2U.items()}


def pretokenize(text):
    return ["".join(B2U[b] for b in p.encode("utf-8")) for p in _PAT.findall(text)]


class Tokenizer:
    def __init__(self, vocab, merges):
        self.vocab = vocab  # str -> id (includes specials)
        self.inv = {i: t for t, i in vocab.items()}
        self.merges = merges  # list of (a, b)
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.cache = {}
        self.special_ids = {s: vocab[s] for s in SPECIALS}

    def bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            best, best_i = None, -1
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best):
                    best, best_i = r, i
            if best is None:
                break
            parts = parts[:best_i] + [parts[best_i] + parts[best_i + 1]] + parts[best_i + 2:]
        self.cache[word] = parts
        return parts

    def encode(self, text):
        ids = []
        for piece in _SPECIAL_RE.split(text):
            if not piece:
                continue
            if piece in self.special_ids:
                ids.append(self.special_ids[piece])
                continue
            for w in pretokenize(piece):
                ids.extend(self.vocab[t] for t in self.bpe(w))
        return ids

    def decode(self, ids, skip_special=False):
        out, buf = [], []
        for i in ids:
            t = self.inv[i]
            if t in self.special_ids:
                if buf:
                    out.append(bytes(U2B[c] for c in "".join(buf)).decode("utf-8", "replace"))
                    buf = []
                if not skip_special:
                    out.append(t)
            else:
                buf.append(t)
        if buf:
            out.append(bytes(U2B[c] for c in "".join(buf)).decode("utf-8", "replace"))
        return "".join(out)

    def encode_chat(self, messages, add_generation_prompt=False):
        return self.encode(render_chat(messages, add_generation_prompt))

    def encode_chat_with_mask(self, messages):
        """ids + loss mask (1 on assistant content tokens and the <|im_end|> closing them)."""
        ids, mask = [], []
        for m in messages:
            head = self.encode(f"{IM_START}{m['role']}\n")
            body = self.encode(m["content"] + IM_END)
            tail = self.encode("\n")
            w = 1 if m["role"] == "assistant" else 0
            ids += head + body + tail
            mask += [0] * len(head) + [w] * len(body) + [0] * len(tail)
        return ids, mask

    # ---- persistence -------------------------------------------------------------------------
    def to_tokenizer_json(self):
        added = [{"id": self.vocab[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True} for s in SPECIALS]
        bl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": PATTERN}, "behavior": "Isolated", "invert": False},
                bl]},
            "post_processor": dict(bl),
            "decoder": dict(bl),
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "ignore_merges": False,
                      "vocab": dict(sorted(self.vocab.items(), key=lambda kv: kv[1])),
                      "merges": [f"{a} {b}" for a, b in self.merges]},
        }

    @classmethod
    def from_tokenizer_json(cls, path):
        with open(path) as f:
            j = json.load(f)
        vocab = dict(j["model"]["vocab"])
        for t in j["added_tokens"]:
            vocab[t["content"]] = t["id"]
        merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in j["model"]["merges"]]
        return cls(vocab, merges)


def train_bpe(texts, vocab_size):
    """Classic BPE training on pre-token frequencies. Ids: 256 bytes, then merges, then 3 specials."""
    n_merges = vocab_size - 256 - len(SPECIALS)
    freq = collections.Counter()
    for t in texts:
        for piece in _SPECIAL_RE.split(t):
            if piece and piece not in SPECIALS:
                freq.update(pretokenize(piece))
    words = [(list(w), c) for w, c in freq.items()]
    base = [B2U[b] for b in range(256)]
    vocab = {t: i for i, t in enumerate(base)}
    merges = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for parts, c in words:
            for i in range(len(parts) - 1):
                pairs[(parts[i], parts[i + 1])] += c
        if not pairs:
            break
        # deterministic: highest count, then lexicographically smallest pair
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        new = best[0] + best[1]
        vocab[new] = len(vocab)
        for k, (parts, c) in enumerate(words):
            if len(parts) < 2:
                continue
            i, out = 0, []
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == best[0] and parts[i + 1] == best[1]:
                    out.append(new)
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            words[k] = (out, c)
    for s in SPECIALS:
        vocab[s] = len(vocab)
    return Tokenizer(vocab, merges)


def write_tokenizer_files(tok, out_dir, model_max_length):
    import os
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokenizer.json"), "w") as f:
        json.dump(tok.to_tokenizer_json(), f, ensure_ascii=False, indent=1)
    added_dec = {str(tok.vocab[s]): {"content": s, "lstrip": False, "normalized": False, "rstrip": False,
                                      "single_word": False, "special": True} for s in SPECIALS}
    cfg = {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": added_dec,
        "additional_special_tokens": [IM_START, IM_END],
        "bos_token": None,
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": IM_END,
        "errors": "replace",
        "model_max_length": model_max_length,
        "pad_token": ENDOFTEXT,
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    stm = {"additional_special_tokens": [IM_START, IM_END], "eos_token": IM_END, "pad_token": ENDOFTEXT}
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w") as f:
        json.dump(stm, f, indent=1)


if __name__ == "__main__":
    import argparse
    import os
    ap = argparse.ArgumentParser(description="train the BPE tokenizer on the corpus")
    ap.add_argument("--corpus", default="tools/slm/work/train.jsonl")
    ap.add_argument("--n", type=int, default=40000, help="examples used for BPE training")
    ap.add_argument("--vocab-size", type=int, default=512)
    ap.add_argument("--out", default="tools/slm/work/tokenizer.json")
    a = ap.parse_args()
    texts = []
    with open(a.corpus) as f:
        for i, line in enumerate(f):
            if i >= a.n:
                break
            texts.append(render_chat(json.loads(line)["messages"]))
    tok = train_bpe(texts, a.vocab_size)
    with open(a.out, "w") as f:
        json.dump(tok.to_tokenizer_json(), f, ensure_ascii=False, indent=1)
    lens = [len(tok.encode(t)) for t in texts[:2000]]
    print(f"vocab {len(tok.vocab)} merges {len(tok.merges)}; mean tokens/example {sum(lens)/len(lens):.1f} max {max(lens)}")
    t = tok.from_tokenizer_json(a.out)
    s = texts[0]
    assert t.decode(t.encode(s)) == s
    print(tok.encode(s)[:40], repr(s[:80]))
