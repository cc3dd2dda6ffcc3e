"""Train one model on the rendered ChatML corpus (loss on assistant tokens), with a wall-clock and/or step budget.

  python3 tools/slm/train.py --preset pocket --seconds 1200 --out tools/slm/work/pocket
Progress goes to <out>/train.log (also stdout). The checkpoint is <out>/ckpt.pt (written periodically and at the end).
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import LlamaLM, PRESETS, Config, greedy_generate, grow_from  # noqa: E402
from tok import Tokenizer, IM_END, ENDOFTEXT  # noqa: E402


def log(fh, msg):
    line = time.strftime("%H:%M:%S ") + msg
    print(line, flush=True)
    fh.write(line + "\n")
    fh.flush()


def quick_eval(model, tok, heldout, n_per_family=12):
    by_fam = {}
    for h in heldout:
        by_fam.setdefault(h["family"], []).append(h)
    res = {}
    eos = tok.vocab[IM_END]
    pad = tok.vocab[ENDOFTEXT]
    for fam, items in by_fam.items():
        items = items[:n_per_family]
        prompts = [tok.encode_chat(h["messages"], add_generation_prompt=True) for h in items]
        outs = greedy_generate(model, prompts, eos, pad, max_new_tokens=24)
        ok = 0
        for h, o in zip(items, outs):
            ok += score(h, tok.decode(o, skip_special=True))
        res[fam] = ok / len(items)
    return res


def score(item, text):
    text = text.strip()
    ans = item["answer"]
    if item["scorer"] == "exact":
        return int(text == ans)
    if item["scorer"] == "contains":
        return int(ans.lower() in text.lower())
    if item["scorer"] == "json":
        try:
            return int(json.loads(text) == json.loads(ans))
        except Exception:
            return 0
    raise ValueError(item["scorer"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", choices=list(PRESETS), required=True)
    ap.add_argument("--corpus", default="tools/slm/work/train.jsonl")
    ap.add_argument("--tokenizer", default="tools/slm/work/tokenizer.json")
    ap.add_argument("--heldout", default="tools/slm/data/heldout.jsonl")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seconds", type=float, default=1200, help="wall-clock training budget")
    ap.add_argument("--max-steps", type=int, default=0, help="step budget (0 = only the time budget)")
    ap.add_argument("--batch", type=int, default=48)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--grow-from", default="", help="checkpoint of a trained smaller model to grow this one from")
    ap.add_argument("--threads-after", default="", help="'SECONDS:N': switch to N threads after SECONDS of training "
                    "(e.g. when the other model, trained in parallel, has finished)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=float, default=180, help="seconds between quick held-out evals")
    ap.add_argument("--loss-on", choices=["assistant", "all"], default="assistant")
    ap.add_argument("--family-weights", default="",
                    help="keep-probabilities per family of the first turn, e.g. 'add3=0.3,mul=0.3' (others 1.0)")
    ap.add_argument("--ddp", type=int, default=1,
                    help="data-parallel processes (gloo, 1 thread each); the global batch is split between them")
    a = ap.parse_args()
    if a.ddp > 1:
        import torch.multiprocessing as mp
        mp.spawn(run, args=(a,), nprocs=a.ddp, join=True)
    else:
        run(0, a)


class _NullLog:
    def write(self, s):
        pass

    def flush(self):
        pass


def run(rank, a):
    import torch.distributed as dist
    ddp = a.ddp > 1
    if ddp:
        dist.init_process_group("gloo", init_method="tcp://127.0.0.1:29533", rank=rank, world_size=a.ddp)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    fh = open(os.path.join(a.out, "train.log"), "a") if rank == 0 else _NullLog()
    _log = log
    log_ = (lambda f, m: _log(f, m)) if rank == 0 else (lambda f, m: None)
    tok = Tokenizer.from_tokenizer_json(a.tokenizer)
    cfg = PRESETS[a.preset]
    cfg = Config(**{**cfg.__dict__, "vocab_size": len(tok.vocab)})
    model = LlamaLM(cfg)
    if a.grow_from:
        ck = torch.load(a.grow_from, map_location="cpu")
        sd = dict(ck["config"])
        sd.pop("head_dim", None)
        grow_from(model, ck["state_dict"], Config(**sd))
        log_(fh, f"grown from {a.grow_from} ({ck.get('stats', {}).get('steps')} steps)")
    log_(fh, f"preset {a.preset} params {model.num_params()} cfg {cfg.to_dict()} args {vars(a)}")

    t0 = time.time()
    data = []
    keep = {k: float(v) for k, v in (kv.split("=") for kv in a.family_weights.split(",") if kv)}
    krng = random.Random(a.seed + 1)
    with open(a.corpus) as f:
        for line in f:
            ex = json.loads(line)
            if keep and krng.random() >= keep.get(ex["family"].split("+")[0], 1.0):
                continue
            ids, mask = tok.encode_chat_with_mask(ex["messages"])
            data.append((ids, mask))
    # the piecewise encoding used for the loss mask must equal encoding the rendered string
    with open(a.corpus) as f:
        for i, line in enumerate(f):
            if i >= 500:
                break
            ex = json.loads(line)
            ids, _ = tok.encode_chat_with_mask(ex["messages"])
            assert tok.encode_chat(ex["messages"]) == ids
    heldout = [json.loads(l) for l in open(a.heldout)]
    n_tok = sum(len(d[0]) for d in data)
    log_(fh, f"tokenized {len(data)} examples, {n_tok} tokens in {time.time()-t0:.1f}s")

    core = model
    if ddp:
        model = torch.nn.parallel.DistributedDataParallel(model)
    decay, no_decay = [], []
    for n, p in core.named_parameters():
        (no_decay if p.dim() < 2 else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.98), eps=1e-8)
    rng = random.Random(a.seed)
    order = list(range(len(data)))
    rng.shuffle(order)
    pos = 0
    pad = tok.vocab[ENDOFTEXT]
    step, seen_ex, seen_tok, loss_tok = 0, 0, 0, 0
    t_start = time.time()
    last_eval = t_start
    ema = None
    epochs = 0
    pending = []

    def progress():
        fr = (time.time() - t_start) / a.seconds if a.seconds > 0 else 0.0
        if a.max_steps:
            fr = max(fr, step / a.max_steps)
        return min(fr, 1.0)

    switched = not a.threads_after
    while True:
        if ddp:
            flag = torch.tensor([progress()])
            dist.broadcast(flag, 0)
            if flag.item() >= 1.0:
                break
        if not switched and time.time() - t_start > float(a.threads_after.split(":")[0]):
            torch.set_num_threads(int(a.threads_after.split(":")[1]))
            switched = True
            log_(fh, f"now using {torch.get_num_threads()} threads")
        fr = flag.item() if ddp else progress()  # all ranks use rank 0's clock (same lr)
        if fr >= 1.0:
            break
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * fr)))
        for g in opt.param_groups:
            g["lr"] = lr
        if not pending:
            # length bucketing: take 32 batches worth of examples, sort by length, cut into batches, shuffle them
            if pos + a.batch * 32 > len(order):
                rng.shuffle(order)
                pos = 0
                epochs += 1
            chunk = sorted(order[pos:pos + a.batch * 32], key=lambda j: len(data[j][0]))
            pos += a.batch * 32
            pending = [chunk[k:k + a.batch] for k in range(0, len(chunk), a.batch)]
            rng.shuffle(pending)
        batch = [data[j] for j in pending.pop()]
        if ddp:
            batch = batch[rank::a.ddp]
        L = max(len(b[0]) for b in batch)
        x = torch.full((len(batch), L), pad, dtype=torch.long)
        w = torch.zeros((len(batch), L))
        for i, (ids, m) in enumerate(batch):
            x[i, :len(ids)] = torch.tensor(ids)
            w[i, :len(ids)] = torch.tensor(m, dtype=torch.float) if a.loss_on == "assistant" else 1.0
        model.train()
        logits, _ = model(x[:, :-1])
        tgt_w = w[:, 1:]
        ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1),
                                               reduction="none").reshape(tgt_w.shape)
        loss = (ce * tgt_w).sum() / tgt_w.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        seen_ex += len(batch)
        seen_tok += int(x.numel())
        loss_tok += int(tgt_w.sum())
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 50 == 0:
            el = time.time() - t_start
            log_(fh, f"step {step} loss {ema:.4f} lr {lr:.2e} ex {seen_ex} tok {seen_tok} "
                    f"elapsed {el:.0f}s ({step/el:.2f} step/s)")
        if rank == 0 and time.time() - last_eval > a.eval_every:
            res = quick_eval(core, tok, heldout)
            log_(fh, f"eval step {step}: " + " ".join(f"{k}={v:.2f}" for k, v in res.items()))
            torch.save({"config": cfg.to_dict(), "state_dict": core.state_dict()}, os.path.join(a.out, "ckpt.pt"))
            last_eval = time.time()
    el = time.time() - t_start
    if rank != 0:
        return
    seen_ex *= a.ddp
    seen_tok *= a.ddp
    loss_tok *= a.ddp
    res = quick_eval(core, tok, heldout)
    log_(fh, f"final eval step {step}: " + " ".join(f"{k}={v:.2f}" for k, v in res.items()))
    stats = {"preset": a.preset, "params": core.num_params(), "steps": step, "batch_size": a.batch,
             "examples_seen": seen_ex, "tokens_seen": seen_tok, "loss_tokens": loss_tok,
             "train_seconds": round(el, 1), "final_loss_ema": round(ema, 4), "lr": a.lr, "loss_on": a.loss_on,
             "threads": a.threads, "ddp_processes": a.ddp, "threads_after": a.threads_after, "grown_from": a.grow_from, "corpus_examples": len(data), "corpus_tokens": n_tok,
             "epochs_completed": epochs, "family_weights": a.family_weights, "budget_seconds": a.seconds, "budget_steps": a.max_steps,
             "torch_version": torch.__version__}
    torch.save({"config": cfg.to_dict(), "state_dict": core.state_dict(), "stats": stats},
               os.path.join(a.out, "ckpt.pt"))
    with open(os.path.join(a.out, "train_stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    log_(fh, "done " + json.dumps(stats))


if __name__ == "__main__":
    main()
