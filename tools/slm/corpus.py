# Over 300 lines: the held-out split and the training generator share every template and word list, which is what the no-leak check relies on.
"""Deterministic synthetic chat corpus with checkable answers.

Every example is {"id", "family", "messages": [{role, content}, ...], "answer", "scorer"}.
The held-out split never appears in training:
  * arithmetic / number / json families: held-out operand tuples (deterministic hash),
  * string families: held-out words (one word-level split shared by all string families),
  * capitals (facts): held-out phrasings (templates never used in training) of known facts,
  * chat: held-out phrasings of greetings / identity questions.

Usage:  python3 corpus.py --out-dir tools/slm/work --train 300000 --heldout-per-family 50
(train.py generates the training corpus itself with train_shard; this writes the held-out split and stats.)
"""
import argparse
import hashlib
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chatgen  # noqa: E402

SEED = 1234

SYSTEM_PROMPTS = [
    "You are a helpful assistant.",
    "You are a helpful assistant.",
    "You are a concise assistant. Answer briefly.",
    "You are SLM, a small assistant.",
    "Answer the question.",
]

CAPITALS = [
    ("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid"),
    ("Portugal", "Lisbon"), ("Japan", "Tokyo"), ("China", "Beijing"), ("India", "New Delhi"),
    ("Russia", "Moscow"), ("Canada", "Ottawa"), ("Mexico", "Mexico City"), ("Brazil", "Brasilia"),
    ("Argentina", "Buenos Aires"), ("Chile", "Santiago"), ("Peru", "Lima"), ("Colombia", "Bogota"),
    ("Egypt", "Cairo"), ("Kenya", "Nairobi"), ("Nigeria", "Abuja"), ("Ghana", "Accra"),
    ("Morocco", "Rabat"), ("Ethiopia", "Addis Ababa"), ("Australia", "Canberra"),
    ("New Zealand", "Wellington"), ("the United Kingdom", "London"), ("Ireland", "Dublin"),
    ("Norway", "Oslo"), ("Sweden", "Stockholm"), ("Finland", "Helsinki"), ("Denmark", "Copenhagen"),
    ("Poland", "Warsaw"), ("Austria", "Vienna"), ("Greece", "Athens"), ("Turkey", "Ankara"),
    ("the Netherlands", "Amsterdam"), ("Belgium", "Brussels"), ("Switzerland", "Bern"),
    ("Hungary", "Budapest"), ("the Czech Republic", "Prague"), ("Ukraine", "Kyiv"), ("Iran", "Tehran"),
    ("Iraq", "Baghdad"), ("Saudi Arabia", "Riyadh"), ("Thailand", "Bangkok"), ("Vietnam", "Hanoi"),
    ("Indonesia", "Jakarta"), ("the Philippines", "Manila"), ("South Korea", "Seoul"),
    ("Pakistan", "Islamabad"), ("Bangladesh", "Dhaka"), ("Cuba", "Havana"), ("Venezuela", "Caracas"),
    ("Iceland", "Reykjavik"), ("Romania", "Bucharest"), ("Bulgaria", "Sofia"), ("Serbia", "Belgrade"),
    ("Croatia", "Zagreb"), ("Malaysia", "Kuala Lumpur"), ("the United States", "Washington, D.C."),
]

CAPITAL_TRAIN_T = [
    "What is the capital of {c}?",
    "What's the capital of {c}?",
    "Name the capital city of {c}.",
    "capital of {c}?",
    "Tell me the capital of {c}.",
    "What is the capital city of {c}?",
]
CAPITAL_HELDOUT_T = [
    "Which city is the capital of {c}?",
    "Do you know the capital of {c}?",
    "Please tell me the capital of {c}.",
]

WORDS = """apple table chair house water light green river stone bread music happy cloud plant
paper smile dream train beach candy horse mouse tiger zebra lemon mango grape peach melon olive
piano robot ocean storm sugar honey money metal glass night earth world heart brain queen king
pen cat dog sun sky car bus map cup hat box fox owl bee ant egg ice jam key leg arm ear eye toy
book door fish bird tree lamp ring rock rose salt sand ship shoe sock star tent wolf yard frog
milk moon nose park road seed snow song coin corn desk duck farm fire gold hill kite leaf lion
nest pear pink blue bear cake city code data game home idea line list mind name note page rain
ball bell boat bowl cave coat crab drum flag gift goat hand iron jeep lake lock mask nail oven
plum quiz rope sail tank tile vase wave wind wing yarn zoo bike fork milk soup word time
black white brown smart quick brave calm clean fresh sweet sharp quiet young small large
chess crown dance eagle flame frost ghost jelly knife magic noise orbit pizza radio sheep snake
spoon sword tooth tower towel wheel whale youth blade bloom brick cabin cedar cliff comet coral
crane daisy delta diner ember fable fairy feast fiber flute forge globe grain hazel jewel koala
laser lunar maple medal nerve novel onion otter panda pearl pilot quilt raven ruler salad scarf
shell skate slope spark spice squid straw sunny swing thorn tulip umbra vapor vivid wagon wheat
yacht acorn badge bison blaze candle carrot castle cactus circle forest garden guitar hammer
island jacket jungle kettle ladder magnet marble mirror monkey number orange pencil pepper planet
pocket rabbit rocket saddle silver spider spring summer tomato turtle violin window winter yellow
button cookie dragon engine flower friend helmet insect lizard meadow parrot puzzle ribbon school
""".split()
# dedupe, keep order, lowercase only
_seen = set()
WORDS = [w for w in WORDS if not (w in _seen or _seen.add(w))]

NAMES = """Ann Bob Carl Dana Eve Finn Gina Hugo Ivy Jack Kate Leo Mia Ned Olga Paul Quinn Rosa Sam
Tina Umar Vera Walt Xena Yuri Zoe Amir Bea Cole Dora Emil Fay Gus Hana Ian Jill Kai Lena Max Nora
Omar Pia Raj Sara Tom Uma Vic Wes Yara Zack Alex Ben Chloe David Emma Frank Grace Henry Iris
""".split()

CHAT = [
    # (train phrasings, heldout phrasings, answer, key for 'contains' scoring)
    (["Hi", "Hello", "Hello!", "Hi!", "Hey there", "Good morning", "hi", "hello", "Hi there!"],
     ["Hey", "Good evening", "Hello there"],
     "Hello! How can I help you today?", "help"),
    (["Who are you?", "What are you?", "What is your name?", "Tell me about yourself.",
      "who are you", "Introduce yourself."],
     ["Who am I talking to?", "What's your name?"],
     "I am a small language model trained for the SLM Playground. I can do simple math, word tasks and a few facts.",
     "language model"),
    (["Thank you", "Thanks!", "thanks", "Thank you very much."],
     ["Thanks a lot", "Thank you!"],
     "You're welcome!", "welcome"),
    (["How are you?", "How are you doing?", "how are you"],
     ["How's it going?"],
     "I'm doing well, thank you! How can I help?", "well"),
    (["What can you do?", "What can you help me with?", "Help"],
     ["What are you able to do?"],
     "I can add, subtract and multiply numbers, compare and sort numbers, work with words, make small JSON objects and name capitals of countries.",
     "numbers"),
    (["Bye", "Goodbye", "See you later"],
     ["Good bye"],
     "Goodbye! Have a nice day.", "Goodbye"),
]

OOD = [
    "What is the meaning of life?", "Write me a poem about the sea.", "What is the weather today?",
    "Explain quantum physics.", "Who won the game last night?", "Tell me a long story.",
    "What is the stock price of Apple?", "Translate this into French: good night.",
    "Can you write code for a website?", "What time is it?", "Who is the president?",
    "Summarize this book for me.", "What should I eat for dinner?", "Write an essay about history.",
]
OOD_ANSWER = "I'm sorry, I am a very small model and can only help with simple math, word tasks and a few facts."

ADD_T = ["What is {a} + {b}?", "What is {a} plus {b}?", "{a} + {b} =", "Add {a} and {b}.",
         "Compute {a}+{b}.", "What's the sum of {a} and {b}?"]
SUB_T = ["What is {a} - {b}?", "What is {a} minus {b}?", "{a} - {b} =", "Subtract {b} from {a}.",
         "Compute {a}-{b}."]
MUL_T = ["What is {a} * {b}?", "What is {a} times {b}?", "{a} x {b} =", "Multiply {a} by {b}.",
         "Compute {a}*{b}."]
CMP_T = ["Which is larger, {a} or {b}?", "Which number is bigger: {a} or {b}?",
         "What is the larger of {a} and {b}?", "max({a}, {b}) = ?"]
UPPER_T = ["Uppercase the word {w}.", "Write {w} in capital letters.", "Convert '{w}' to uppercase."]
REV_T = ["Reverse the word {w}.", "Spell {w} backwards.", "Write '{w}' in reverse."]
FIRST_T = ["What is the first letter of {w}?", "What letter does {w} start with?",
           "First letter of '{w}'?"]
LEN_T = ["How many letters are in {w}?", "How long is the word {w}?", "Count the letters in '{w}'."]
JSON_T = ["Give a JSON object with name {n} and age {a}.", "Return JSON with name {n} and age {a}.",
          "Make a JSON object: name {n}, age {a}."]
# One-digit operands ("What is 12+7?", "6 + 4 =", "25 - 5"): what a visitor types first. add2/sub2 keep their
# two-digit operands (their held-out items stay byte-identical), so this is a family of its own, with the same
# phrasings plus the unspaced ones people type.
ADD1_T = ADD_T + ["What is {a}+{b}?", "{a}+{b}="]
SUB1_T = SUB_T + ["What is {a}-{b}?", "{a}-{b}="]
SORT_T = ["Sort these numbers: {a}, {b}, {c}", "Sort in ascending order: {a} {b} {c}",
          "Put {a}, {b}, {c} in order from smallest to largest."]

# family -> training weight
FAMILY_WEIGHTS = {
    "add2": 10, "sub2": 8, "add3": 10, "mul": 10, "compare": 8, "capital": 10,
    "upper": 7, "reverse": 8, "first_letter": 5, "length": 5, "json": 7, "sort3": 8, "chat": 6,
    "ood": 1, "arith1": 10,
}
HELDOUT_FAMILIES = ["add2", "sub2", "add3", "mul", "compare", "sort3", "capital", "upper",
                    "reverse", "first_letter", "length", "json", "chat", "multiturn", "arith1"]


def _h(s):
    return int(hashlib.sha1(s.encode()).hexdigest(), 16) % 1000


def is_heldout(family, key):
    """Held-out operand tuples: ~8% by a deterministic hash. Words use one split for all string tasks."""
    if family == "word":
        return _h("word:" + key) < 100  # ~10% of words
    return _h(family + ":" + key) < 80


HELDOUT_WORDS = [w for w in WORDS if is_heldout("word", w)]
TRAIN_WORDS = [w for w in WORDS if not is_heldout("word", w)]


def _pick(rng, items):
    return items[rng.randrange(len(items))]


def make_item(family, rng, split):
    """Return (user_text, answer_text, answer_for_scoring, scorer) from the given split."""
    want_held = split == "heldout"
    for _ in range(10000):
        if family in ("add2", "sub2", "add3", "mul", "compare", "sort3", "json", "arith1"):
            if family == "arith1":
                # addition or subtraction with at least one one-digit operand (0-99 and 0-9, either order)
                if rng.random() < 0.6:
                    a, b = rng.randint(0, 99), rng.randint(0, 9)
                    if rng.random() < 0.5:
                        a, b = b, a
                    key, ans, t = f"+{a},{b}", str(a + b), _pick(rng, ADD1_T)
                else:
                    a = rng.randint(0, 99)
                    b = rng.randint(0, min(9, a))
                    key, ans, t = f"-{a},{b}", str(a - b), _pick(rng, SUB1_T)
            elif family == "add2":
                a, b = rng.randint(10, 99), rng.randint(10, 99)
                key, ans, t = f"{a},{b}", str(a + b), _pick(rng, ADD_T)
            elif family == "sub2":
                a = rng.randint(10, 99)
                b = rng.randint(10, a)
                key, ans, t = f"{a},{b}", str(a - b), _pick(rng, SUB_T)
            elif family == "add3":
                a, b = rng.randint(100, 999), rng.randint(100, 999)
                key, ans, t = f"{a},{b}", str(a + b), _pick(rng, ADD_T)
            elif family == "mul":
                a, b = rng.randint(2, 99), rng.randint(2, 9)
                if rng.random() < 0.5:
                    a, b = b, a
                key, ans, t = f"{a},{b}", str(a * b), _pick(rng, MUL_T)
            elif family == "compare":
                a, b = rng.randint(0, 999), rng.randint(0, 999)
                if a == b:
                    continue
                key, ans, t = f"{a},{b}", str(max(a, b)), _pick(rng, CMP_T)
            elif family == "sort3":
                xs = rng.sample(range(0, 100), 3)
                key = ",".join(map(str, xs))
                ans = ", ".join(map(str, sorted(xs)))
                t = _pick(rng, SORT_T)
                if is_heldout(family, key) != want_held:
                    continue
                return t.format(a=xs[0], b=xs[1], c=xs[2]), ans, ans, "exact"
            elif family == "json":
                n, a = _pick(rng, NAMES), rng.randint(18, 90)
                key = f"{n},{a}"
                t = _pick(rng, JSON_T)
                if is_heldout(family, key) != want_held:
                    continue
                ans = json.dumps({"name": n, "age": a})
                return t.format(n=n, a=a), ans, ans, "json"
            if is_heldout(family, key) != want_held:
                continue
            return t.format(a=a, b=b), ans, ans, "exact"
        if family in ("upper", "reverse", "first_letter", "length"):
            w = _pick(rng, HELDOUT_WORDS if want_held else TRAIN_WORDS)
            if family == "upper":
                ans, t = w.upper(), _pick(rng, UPPER_T)
            elif family == "reverse":
                ans, t = w[::-1], _pick(rng, REV_T)
            elif family == "first_letter":
                ans, t = w[0], _pick(rng, FIRST_T)
            else:
                ans, t = str(len(w)), _pick(rng, LEN_T)
            return t.format(w=w), ans, ans, "exact"
        if family == "capital":
            c, cap = _pick(rng, CAPITALS)
            t = _pick(rng, CAPITAL_HELDOUT_T if want_held else CAPITAL_TRAIN_T)
            q = t.format(c=c)
            q = q[0].upper() + q[1:]
            return q, f"The capital of {c} is {cap}.", cap, "contains"
        if family == "chat":
            tr, ho, ans, key = _pick(rng, CHAT)
            return _pick(rng, ho if want_held else tr), ans, key, "contains"
        if family == "ood":
            return _pick(rng, OOD), OOD_ANSWER, "sorry", "contains"
        raise ValueError(family)
    raise RuntimeError("could not sample " + family)


def _system(rng, p=0.3):
    if rng.random() < p:
        return [{"role": "system", "content": _pick(rng, SYSTEM_PROMPTS)}]
    return []


# Training-only extras. They change neither the held-out split (make_item / heldout() are untouched, so the
# held-out file stays byte-identical) nor any held-out prompt (asserted in train_shard).
# Spelling drill: the string families on held-out words need per-token spelling that 276 training words cannot
# teach (with them, upper-casing held-out words stayed at 14%); pseudo-words made of pieces of training words,
# or of random letters, give the model every BPE piece in many contexts.
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_HELD_SET = set(HELDOUT_WORDS)


def pseudo_word(rng):
    for _ in range(100):
        if rng.random() < 0.6:
            w = ""
            while len(w) < rng.randint(3, 8):
                src = _pick(rng, TRAIN_WORDS)
                i = rng.randrange(len(src))
                w += src[i:i + rng.randint(2, 4)]
            w = w[:9]
        else:
            w = "".join(_pick(rng, _LETTERS) for _ in range(rng.randint(2, 8)))
        if w not in _HELD_SET and len(w) >= 2:
            return w
    raise RuntimeError("pseudo_word")


# More training phrasings for the chat family (paraphrase diversity; none equals a held-out phrasing).
CHAT_EXTRA = [
    ["Hi!!", "Hello :)", "Hey hey", "Good afternoon", "Good day", "Greetings", "Howdy", "Yo", "Hiya",
     "hello there!", "Hi, assistant", "Hello, SLM"],
    ["Who is this?", "Who are you exactly?", "What should I call you?", "Are you a bot?", "What is your name",
     "Tell me who you are.", "What kind of assistant are you?", "Who made you?"],
    ["Thanks so much", "Many thanks", "thank you", "Thx", "Thanks for the help", "Great, thanks!",
     "Thank you so much!"],
    ["How are you today?", "How do you do?", "How have you been?", "How are things?", "Are you doing okay?",
     "How is your day?"],
    ["What do you do?", "What can you help with?", "What are your skills?", "What tasks can you do?",
     "How can you help me?", "What are you good at?"],
    ["Bye!", "See you", "Goodbye!", "Bye bye", "Talk to you later", "See you soon", "Farewell"],
]
_CHAT_HELD = {p for c in CHAT for p in c[1]}
assert not (_CHAT_HELD & {p for ps in CHAT_EXTRA for p in ps})
# Stricter than "not the same string": no training user turn contains a held-out chat phrasing (canonical word
# sequence, chatgen.LeakCheck), so curated phrasings such as "Thank you" or "hello there!" are filtered out too.
CHAT_LEAK = chatgen.LeakCheck(sorted(_CHAT_HELD))


def make_train_item(family, rng, extras=True):
    """A training item: make_item's train split plus the training-only extras above."""
    if extras and family in ("upper", "reverse", "first_letter", "length") and rng.random() < 0.5:
        w = pseudo_word(rng)
        if family == "upper":
            ans, t = w.upper(), _pick(rng, UPPER_T)
        elif family == "reverse":
            ans, t = w[::-1], _pick(rng, REV_T)
        elif family == "first_letter":
            ans, t = w[0], _pick(rng, FIRST_T)
        else:
            ans, t = str(len(w)), _pick(rng, LEN_T)
        return t.format(w=w), ans, ans, "exact"
    if extras and family == "chat":
        # a quarter from the curated phrasings, the rest composed (chatgen); both filtered by the no-leak rule
        for _ in range(1000):
            k = rng.randrange(len(CHAT))
            u = _pick(rng, CHAT[k][0] + CHAT_EXTRA[k]) if rng.random() < 0.25 else chatgen.compose(k, rng)
            if not CHAT_LEAK.leaks(u):
                return u, CHAT[k][2], CHAT[k][3], "contains"
        raise RuntimeError("chat sample")
    return make_item(family, rng, "train")


def sample_train(rng, fams, weights, extras=False):
    family = rng.choices(fams, weights)[0]
    msgs = _system(rng)
    u, a, _, _ = make_train_item(family, rng, extras)
    msgs += [{"role": "user", "content": u}, {"role": "assistant", "content": a}]
    if rng.random() < 0.12:  # two-turn conversation
        f2 = rng.choices(fams, weights)[0]
        u2, a2, _, _ = make_train_item(f2, rng, extras)
        msgs += [{"role": "user", "content": u2}, {"role": "assistant", "content": a2}]
        family = family + "+" + f2
    return {"family": family, "messages": msgs}


def heldout(per_family):
    out = []
    for fam in HELDOUT_FAMILIES:
        rng = random.Random(f"{SEED}:heldout:{fam}")
        seen = set()
        n = 0
        tries = 0
        while n < per_family and tries < per_family * 200:
            tries += 1
            if fam == "multiturn":
                f1 = _pick(rng, ["add2", "capital", "upper", "compare"])
                u1, a1, _, _ = make_item(f1, rng, "train")
                f2 = _pick(rng, ["add2", "compare", "first_letter", "json"])
                u2, a2, ans, scorer = make_item(f2, rng, "heldout")
                msgs = _system(rng) + [{"role": "user", "content": u1}, {"role": "assistant", "content": a1},
                                       {"role": "user", "content": u2}]
            else:
                u, a, ans, scorer = make_item(fam, rng, "heldout")
                msgs = _system(rng) + [{"role": "user", "content": u}]
            k = json.dumps(msgs)
            if k in seen:
                continue
            seen.add(k)
            out.append({"id": f"{fam}-{n:03d}", "family": fam, "messages": msgs, "answer": ans,
                        "scorer": scorer})
            n += 1
    return out


def train_shard(shard, n, per_family=50):
    """Training examples of one shard (seeded by the shard number, so a corpus of S shards is the same whatever the
    number of worker processes). Asserts that no held-out prompt occurs."""
    fams = list(FAMILY_WEIGHTS)
    weights = [FAMILY_WEIGHTS[f] for f in fams]
    held = heldout(per_family)
    held_prompts = {h["messages"][-1]["content"] for h in held if h["family"] != "chat"} | _CHAT_HELD
    rng = random.Random(f"{SEED}:train:{shard}")
    out = []
    for _ in range(n):
        ex = sample_train(rng, fams, weights, extras=True)
        for m in ex["messages"]:
            if m["role"] == "user":
                assert m["content"] not in held_prompts, "held-out prompt in training: " + m["content"]
                assert not CHAT_LEAK.leaks(m["content"]), "held-out chat phrasing in training: " + m["content"]
        out.append(ex)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", default="tools/slm/work")
    ap.add_argument("--heldout-out", default="tools/slm/data/heldout.jsonl")
    ap.add_argument("--train", type=int, default=300000, help="corpus size the models train on (train.py generates it)")
    ap.add_argument("--write-train", type=int, default=1000, help="write the first N training examples to train.jsonl")
    ap.add_argument("--heldout-per-family", type=int, default=50)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    os.makedirs(os.path.dirname(args.heldout_out), exist_ok=True)
    held = heldout(args.heldout_per_family)
    with open(os.path.join(args.out_dir, "train.jsonl"), "w") as f:
        for i, ex in enumerate(train_shard(0, args.write_train, args.heldout_per_family)):
            ex["id"] = f"train-{i:07d}"
            f.write(json.dumps(ex) + "\n")
    with open(args.heldout_out, "w") as f:
        for h in held:
            f.write(json.dumps(h) + "\n")
    stats = {"train_examples": args.train, "heldout_examples": len(held),
             "heldout_per_family": args.heldout_per_family, "families": list(FAMILY_WEIGHTS),
             "heldout_families": HELDOUT_FAMILIES, "words_total": len(WORDS),
             "words_heldout": len(HELDOUT_WORDS), "capitals": len(CAPITALS), "seed": SEED,
             "extras": "training-only spelling drill on pseudo-words (half of the string-family items); chat turns "
                       f"from {sum(len(c) for c in CHAT_EXTRA)} extra curated phrasings and the compositional "
                       "generator chatgen.py, none containing a held-out chat phrasing"}
    with open(os.path.join(args.out_dir, "corpus_stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
