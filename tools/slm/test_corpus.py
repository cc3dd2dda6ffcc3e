"""Checks of the corpus split (stdlib only): python3 -m unittest tools/slm/test_corpus.py (run by
tests/unit/slm-corpus.test.ts). The held-out file is reproduced from the seed, training never contains a held-out
prompt or a held-out chat phrasing, and the chat generator covers each intent with many distinct phrasings."""
import collections
import json
import os
import random
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import chatgen  # noqa: E402
import corpus  # noqa: E402


class Split(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.held = corpus.heldout(50)
        cls.train = corpus.train_shard(0, 6000) + corpus.train_shard(63, 6000)

    def test_heldout_file_is_reproduced_from_the_seed(self):
        with open(os.path.join(HERE, "data", "heldout.jsonl")) as f:
            on_disk = [json.loads(line) for line in f]
        self.assertEqual(on_disk, self.held)

    def test_training_is_deterministic_by_shard(self):
        self.assertEqual(corpus.train_shard(5, 300), corpus.train_shard(5, 300))
        self.assertNotEqual(corpus.train_shard(5, 300), corpus.train_shard(6, 300))

    def test_no_heldout_prompt_or_chat_phrasing_in_training(self):
        held_prompts = {h["messages"][-1]["content"] for h in self.held}
        held_chat = [h["messages"][-1]["content"] for h in self.held if h["family"] == "chat"]
        canon_held = {" ".join(chatgen.canon(p)) for p in held_chat}
        users = [m["content"] for ex in self.train for m in ex["messages"] if m["role"] == "user"]
        for u in users:
            self.assertNotIn(u, held_prompts)
            self.assertFalse(corpus.CHAT_LEAK.leaks(u), u)
            c = " ".join(chatgen.canon(u))
            for p in canon_held:  # independent of LeakCheck: no held-out phrasing as a word sequence
                self.assertFalse(c == p or (" " in p and f" {p} " in f" {c} "), (u, p))

    def test_leak_rule(self):
        leak = chatgen.LeakCheck(["Good evening", "Hey", "What's your name?", "Thank you!"])
        for t in ["Good evening", "GOOD EVENING, SLM!", "hey!", "Hey", "what is your name", "Whats your name??",
                  "Thank you very much", "oh, thank you"]:
            self.assertTrue(leak.leaks(t), t)
        for t in ["Evening!", "hey there", "Good morning", "your name?", "thank u", "thanks", "they"]:
            self.assertFalse(leak.leaks(t), t)

    def test_chat_generator_covers_each_intent(self):
        rng = random.Random(7)
        seen = collections.defaultdict(set)
        for _ in range(6000):
            k = rng.randrange(len(corpus.CHAT))
            seen[k].add(chatgen.compose(k, rng))
        for k in range(len(corpus.CHAT)):
            self.assertGreater(len(seen[k]), 300, corpus.CHAT[k][2])
        chat = [ex for ex in self.train if ex["family"].split("+")[0] == "chat"]
        self.assertGreater(len(chat), 400)
        # the answer of every chat turn is one of the canned answers (what the scorer's 'contains' keys accept)
        answers = {c[2] for c in corpus.CHAT}
        keys = {c[2]: c[3] for c in corpus.CHAT}
        for ex in chat:
            a = ex["messages"][[m["role"] for m in ex["messages"]].index("user") + 1]["content"]
            self.assertIn(a, answers)
            self.assertIn(keys[a].lower(), a.lower())


if __name__ == "__main__":
    unittest.main()
