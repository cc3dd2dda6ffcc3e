"""Compositional paraphrase generator for the chat intents (training only).

The six chat intents (greet, identity, thanks, how-are-you, capabilities, bye) are generated from generic pieces:
core phrasings and synonyms per intent, optional openers ("hi,", "so", "excuse me,"), addressees ("SLM", "there",
"friend"), closing punctuation / emoticons, case variants, contraction / expansion ("what's" <-> "what is") and
typos (dropped, doubled or swapped letters). Nothing here is derived from the held-out prompts.

The no-leak rule (`leaks`) is stricter than "not the same string": a training utterance is rejected when, after
canonicalisation (lower case, contractions expanded, punctuation dropped), it contains a held-out chat phrasing of
two or more words as a contiguous word sequence, or equals a one-word held-out phrasing. So a held-out
"Good evening" also keeps "Good evening, SLM!" and "good evening there" out of training, and a held-out "Thank you!"
keeps every "thank you ..." out (training says "thank u", "thanks", "many thanks" instead).
"""
import re

# intent index = position in corpus.CHAT (answers and scoring keys live there)
GREET, IDENTITY, THANKS, HOWAREYOU, CAPS, BYE = range(6)

CORES = {
    GREET: [
        "hi", "hello", "hey", "hiya", "howdy", "greetings", "yo", "heya", "hey hey", "hi hi", "hello hello", "hullo",
        "good morning", "good afternoon", "good day", "morning", "afternoon", "evening", "hi there",
        "hey there", "hello again", "hi again", "nice to meet you", "pleased to meet you",
        "well hello", "oh hi", "hey you", "ahoy", "hola", "salutations", "top of the morning", "hey buddy",
        "hi friend", "hello friend", "hello world", "hi hello", "good to see you", "hey, nice to meet you",
    ],
    IDENTITY: [
        "who are you", "what are you", "what should I call you",
        "do you have a name", "tell me about yourself", "introduce yourself", "who is this", "who's this",
        "who am I speaking to", "who am I speaking with", "who am I chatting with",
        "are you a bot", "are you a robot", "are you human", "are you an AI",
        "are you a person", "what kind of bot are you", "what kind of assistant are you",
        "what kind of model are you",
        "who made you", "who built you", "who created you", "what model are you", "which model is this",
        "can you introduce yourself", "say something about yourself", "describe yourself", "your name",
        "what are you called", "what do they call you", "is this a bot", "what is this", "who exactly are you",
        "tell me who you are", "what sort of program are you", "are you a language model", "what is your identity",
        "who are you exactly", "and you are", "who might you be", "may I know your name", "what do I call you",
    ],
    THANKS: [
        "thanks", "thx", "ty", "thanks a bunch", "thanks so much", "thanks a ton", "many thanks",
        "much appreciated", "I appreciate it", "appreciate it", "thank u", "thank ya", "cheers", "great, thanks",
        "perfect, thanks", "thanks for the help", "thanks for your help", "that helped, thanks", "awesome, thanks",
        "thanks again", "thanks a million", "thanks very much", "thank u so much", "ok thanks", "nice, thank u",
        "thanks heaps", "thanks, that is great",
        "big thanks", "thanks loads", "tysm", "I owe you one", "grateful, thanks", "cool, thx",
    ],
    HOWAREYOU: [
        "how are you", "how are you doing", "how are u", "how r u", "how do you do", "how have you been",
        "how are things", "how are things going", "how is everything",
        "how's everything going", "how is life", "how's life", "how is your day", "how's your day going",
        "how is your day going", "how are you today", "how are you feeling", "how goes it", "how have things been",
        "are you doing okay", "are you well", "are you doing well", "how are you holding up", "how's your evening",
        "how is your week going", "how are you this morning", "how do you feel", "what's new", "how's it been",
        "everything okay with you", "you doing alright", "how are you keeping", "hope you are well",
    ],
    CAPS: [
        "what can you do", "what can you help me with", "what can you help with", "help", "what are you good at",
        "what are your skills", "what are your abilities", "what are your capabilities", "what do you know",
        "what tasks can you do", "what tasks can you handle", "what are you capable of",
        "what are you able to help with", "what kinds of things can you do", "what is your skill set",
        "what can I ask you", "what do you do", "how can you help", "how can you help me",
        "what features do you have",
        "what are you for", "show me what you can do", "list your abilities", "what can you do for me",
        "what jobs can you do", "are you able to help me", "what can you handle", "what do you help with",
        "what are your functions", "what questions can you answer",
        "I need help", "can you help me", "what is it that you do", "what else can you do",
    ],
    BYE: [
        "bye", "goodbye", "bye bye", "see you", "see you later", "see you soon", "see you tomorrow", "see ya",
        "farewell", "later", "take care", "have a nice day", "good night", "catch you later", "talk to you later",
        "ttyl", "cya", "bye for now", "so long", "I have to go", "gotta go", "I'm leaving now", "ok bye", "bye then",
        "thanks, bye", "until next time", "I'm off", "have a good one", "signing off",
    ],
}
QUESTION_INTENTS = {IDENTITY, HOWAREYOU, CAPS}

# "can you tell me" + an embedded clause (identity / capabilities only)
ASK_PREFIX = ["can you tell me", "could you tell me", "please tell me", "I'd like to know", "I want to know",
              "may I ask", "tell me", "I wonder", "do you mind telling me"]
TELL_PREFIX = ["can you tell me", "could you tell me", "please tell me", "tell me", "I want to know"]
EMBEDDED = {
    IDENTITY: ["who you are", "what you are", "your name", "what your name is", "what I should call you",
               "who I am chatting with", "who made you", "what kind of assistant you are", "a bit about yourself"],
    CAPS: ["what you can do", "what you are good at", "what you can help with", "how you can help",
           "what tasks you can do", "what your skills are"],
}
OPENERS = ["hi", "hey", "hello", "ok", "so", "um", "well", "excuse me", "quick question", "btw", "hmm", "oh",
           "alright", "hey there", "yo", "listen"]
ADDRESSEES = ["SLM", "assistant", "bot", "there", "friend", "buddy", "my friend", "pal", "little model", "SLM bot"]
PUNCT = ["", "!", "!!", ".", "?", " :)", " :D", "...", "!?", " !", "?!", " ;)"]
QPUNCT = ["?", "?", "?", "", "??", "?!", " ?", ".", "? :)"]
CONTRACT = [("what is", "what's"), ("who is", "who's"), ("how is", "how's"), ("I am", "I'm"), ("you are", "you're"),
            ("I would", "I'd"), ("it is", "it's"), ("that is", "that's"), ("do not", "don't"), ("I have", "I've")]
_EXPAND = {b.lower(): a.lower() for a, b in CONTRACT}
_EXPAND.update({"whats": "what is", "whos": "who is", "hows": "how is", "im": "i am", "youre": "you are"})


def canon(text):
    """Lower case, contractions expanded (also without the apostrophe), punctuation dropped: the word sequence."""
    t = text.lower().replace("\u2019", "'")
    words = re.findall(r"[a-z0-9']+", t)
    out = []
    for w in words:
        out.extend(_EXPAND.get(w, _EXPAND.get(w.replace("'", ""), w.replace("'", ""))).split())
    return out


def _contains(seq, sub):
    n = len(sub)
    return any(seq[i:i + n] == sub for i in range(len(seq) - n + 1))


class LeakCheck:
    """The no-leak rule against a set of held-out chat phrasings (see the module docstring)."""

    def __init__(self, heldout_phrasings):
        self.multi = [canon(p) for p in heldout_phrasings if len(canon(p)) >= 2]
        self.single = {tuple(canon(p)) for p in heldout_phrasings if len(canon(p)) == 1}

    def leaks(self, text):
        c = canon(text)
        return tuple(c) in self.single or any(_contains(c, m) for m in self.multi)


def _typo(rng, s):
    """One typo in a word of >= 4 letters: drop, double or swap adjacent letters."""
    idx = [i for i, w in enumerate(s.split(" ")) if len(w) >= 4 and w.isalpha()]
    if not idx:
        return s
    words = s.split(" ")
    i = idx[rng.randrange(len(idx))]
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    k = rng.randrange(3)
    words[i] = w[:j] + w[j + 1:] if k == 0 else w[:j] + w[j] + w[j:] if k == 1 else w[:j - 1] + w[j] + w[j - 1] + w[j + 1:]
    return " ".join(words)


def _contract(rng, s):
    for a, b in CONTRACT:
        if rng.random() < 0.5:
            s = re.sub(r"\b" + a + r"\b", b, s, flags=re.I)
        else:
            s = re.sub(r"\b" + re.escape(b) + r"(?=\W|$)", a, s, flags=re.I)
    if rng.random() < 0.15:
        s = s.replace("'", "")  # "whats", "im"
    return s


def compose(intent, rng):
    """One generated utterance for the intent (may leak; the caller filters with LeakCheck)."""
    q = intent in QUESTION_INTENTS
    if intent in EMBEDDED and rng.random() < 0.2:
        clause = rng.choice(EMBEDDED[intent])
        prefixes = ASK_PREFIX if clause.split(" ")[0] in ("who", "what", "how") else TELL_PREFIX
        core = f"{rng.choice(prefixes)} {clause}"
    else:
        core = rng.choice(CORES[intent])
    if rng.random() < 0.3:
        core = _contract(rng, core)
    s = core
    r = rng.random()
    if intent != GREET and r < 0.2:
        s = rng.choice(OPENERS) + rng.choice([",", "", " -", "!"]) + " " + s
    elif r < 0.35:
        s += rng.choice([",", ""]) + " " + rng.choice(ADDRESSEES)
    s += rng.choice(QPUNCT if q else PUNCT)
    c = rng.random()
    if c < 0.5:
        s = s[0].upper() + s[1:]
    elif c < 0.56:
        s = s.upper()
    elif c < 0.62:
        s = " ".join(w[:1].upper() + w[1:] for w in s.split(" "))
    if rng.random() < 0.12:
        s = _typo(rng, s)
    return s.strip()
