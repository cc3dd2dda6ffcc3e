# Over 300 lines: one training run (device, data preparation, loop, periodic held-out eval, checkpoint) with one set of arguments.
"""Train one model on the generated ChatML corpus (loss on assistant tokens), with a wall-clock and/or step budget.

  python3 tools/slm/train.py --preset pocket --seconds 1200 --out tools/slm/work/pocket
Runs on a CUDA GPU when torch sees one (plain fp32 with TF32 matmuls: no autocast, so the trained weights are the
exported fp32 ones), else on CPU; same seeds, corpus and batches either way.
The corpus (corpus.train_shard, 64 seeded shards) is generated and tokenized in-process by a pool of workers; --data-cache
keeps the tokenized tensors for another run. Progress goes to <out>/train.log (also stdout). The checkpoint is
<out>/ckpt.pt (model-only fp32 state_dict, written at every quick eval and at the end).
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import LlamaLM, PRESETS, Config, greedy_generate, grow_from  # noqa: E402
from tok import Tokenizer, IM_END, ENDOFTEXT  # noqa: E402
import corpus  # noqa: E402

N_SHARDS = 64


def log(fh, msg):
    line = time.strftime("%H:%M:%S ") + msg
    print(line, flush=True)
    fh.write(line + "\n")
    fh.flush()


def _encode_shard(job):
    shard, n, tok_path = job
    tok = Tokenizer.from_tokenizer_json(tok_path)
    fams, rows = [], []
    for ex in corpus.train_shard(shard, n):
        fams.append(ex["family"])  # "add2" or, for two-turn chats, "add2+mul"
        rows.append(tok.encode_chat_with_mask(ex["messages"]))
    L = max((len(r[0]) for r in rows), default=1)
    X = np.zeros((len(rows), L), dtype=np.int16)
    M = np.zeros((len(rows), L), dtype=np.uint8)
    lens = np.zeros(len(rows), dtype=np.int32)
    for i, (ids, m) in enumerate(rows):
        X[i, :len(ids)] = ids
        M[i, :len(ids)] = m
        lens[i] = len(ids)
    return fams, X, M, lens


def build_data(n_examples, tok_path, workers):
    """Generate + tokenize the corpus: padded int16 ids, uint8 loss mask, lengths, first-turn families."""
    per = [n_examples // N_SHARDS + (1 if i < n_examples % N_SHARDS else 0) for i in range(N_SHARDS)]
    jobs = [(i, per[i], tok_path) for i in range(N_SHARDS)]
    if workers > 1:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_encode_shard, jobs, chunksize=1)
    else:
        parts = [_encode_shard(j) for j in jobs]
    L = max(p[1].shape[1] for p in parts)
    pad = lambda a: np.pad(a, ((0, 0), (0, L - a.shape[1])))  # noqa: E731
    X = np.concatenate([pad(p[1]) for p in parts])
    M = np.concatenate([pad(p[2]) for p in parts])
    lens = np.concatenate([p[3] for p in parts])
    fams = [f for p in parts for f in p[0]]
    return {"X": torch.from_numpy(X), "M": torch.from_numpy(M), "lens": torch.from_numpy(lens), "fams": fams}


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
    ap.add_argument("--preset", choices=list(PRESETS), default="pocket")
    ap.add_argument("--train-examples", type=int, default=300000, help="corpus size (generated in-process)")
    ap.add_argument("--data-cache", default="", help="file to load the tokenized corpus from / save it to")
    ap.add_argument("--workers", type=int, default=0, help="corpus worker processes (0 = CPU count)")
    ap.add_argument("--prepare-only", action="store_true", help="only build --data-cache, then exit")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ap.add_argument("--tokenizer", default="tools/slm/data/tokenizer.json")
    ap.add_argument("--heldout", default="tools/slm/data/heldout.jsonl")
    ap.add_argument("--out", default="")
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
    ap.add_argument("--exclude-families", default="",
                    help="drop every example with a turn from these families, e.g. 'add3,mul' (a deliberate skill split)")
    ap.add_argument("--ddp", type=int, default=1,
                    help="data-parallel processes (gloo, 1 thread each); the global batch is split between them")
    a = ap.parse_args()
    if a.prepare_only:
        load_data(a)
        return
    if a.ddp > 1:
        import torch.multiprocessing as mp
        mp.spawn(run, args=(a,), nprocs=a.ddp, join=True)
    else:
        run(0, a)


def load_data(a):
    if a.data_cache and os.path.exists(a.data_cache):
        return torch.load(a.data_cache)
    d = build_data(a.train_examples, a.tokenizer, a.workers or os.cpu_count() or 1)
    if a.data_cache:
        torch.save(d, a.data_cache + ".tmp")
        os.replace(a.data_cache + ".tmp", a.data_cache)
    return d


def save_ckpt(core, cfg, path, stats=None):
    ck = {"config": cfg.to_dict(), "state_dict": {k: v.detach().float().cpu() for k, v in core.state_dict().items()}}
    if stats is not None:
        ck["stats"] = stats
    torch.save(ck, path + ".tmp")  # torch >= 1.6 zip format: loads in Debian's torch 1.13 and in torch 2.x
    os.replace(path + ".tmp", path)


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

    dev = torch.device("cuda" if (a.device == "cuda" or (a.device == "auto" and torch.cuda.is_available()
                                                            and not ddp)) else "cpu")
    device_name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "CPU"
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    t0 = time.time()
    d = load_data(a)
    keep = {k: float(v) for k, v in (kv.split("=") for kv in a.family_weights.split(",") if kv)}
    krng = random.Random(a.seed + 1)
    excl = set(a.exclude_families.split(",")) - {""}
    sel = [i for i, f in enumerate(d["fams"])
           if not (keep and krng.random() >= keep.get(f.split("+")[0], 1.0)) and not (excl & set(f.split("+")))]
    sel_t = torch.tensor(sel, dtype=torch.long)
    X, M, lens = d["X"][sel_t], d["M"][sel_t], d["lens"][sel_t].tolist()
    # the piecewise encoding used for the loss mask must equal encoding the rendered string
    for ex in corpus.train_shard(0, 200):
        ids, _ = tok.encode_chat_with_mask(ex["messages"])
        assert tok.encode_chat(ex["messages"]) == ids
    heldout = [json.loads(l) for l in open(a.heldout)]
    n_tok = int(sum(lens))
    log_(fh, f"corpus {len(d['fams'])} examples generated, {len(sel)} used, {n_tok} tokens in {time.time()-t0:.1f}s; "
             f"device {dev} ({device_name})")
    X, M = X.to(dev), M.to(dev)
    model.to(dev)
    data = lens  # per-example lengths drive the length bucketing

    core = model
    if ddp:
        model = torch.nn.parallel.DistributedDataParallel(model)
    decay, no_decay = [], []
    for n, p in core.named_parameters():
        (no_decay if p.dim() < 2 else decay).append(p)
    groups = [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}]
    try:  # fused AdamW (torch >= 2.0 on CUDA): one kernel instead of a few per parameter
        opt = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.98), eps=1e-8, fused=dev.type == "cuda")
    except (TypeError, RuntimeError):
        opt = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.98), eps=1e-8)
    rng = random.Random(a.seed)
    order = list(range(len(data)))
    rng.shuffle(order)
    pos = 0
    pad = tok.vocab[ENDOFTEXT]
    step, seen_ex, seen_tok, loss_tok = 0, 0, 0, 0
    t_start = time.time()
    last_eval = t_start
    ema = None
    loss_sum = torch.zeros((), device=dev)
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
            chunk = sorted(order[pos:pos + a.batch * 32], key=lambda j: data[j])
            pos += a.batch * 32
            pending = [chunk[k:k + a.batch] for k in range(0, len(chunk), a.batch)]
            rng.shuffle(pending)
        idx = pending.pop()
        if ddp:
            idx = idx[rank::a.ddp]
        L = max(data[j] for j in idx)
        it = torch.tensor(idx, dtype=torch.long).to(dev, non_blocking=True)
        x = X[it, :L].long()
        tgt_w = M[it, 1:L].float() if a.loss_on == "assistant" else (x[:, 1:] != pad).float()
        model.train()
        logits, _ = model(x[:, :-1])
        ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1),
                                               reduction="none").reshape(tgt_w.shape)
        loss = (ce * tgt_w).sum() / tgt_w.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        seen_ex += len(idx)
        seen_tok += len(idx) * L
        loss_sum = loss_sum + loss.detach()  # read back every 50 steps only (no per-step GPU sync)
        if step % 50 == 0:
            lw = loss_sum.item() / 50
            loss_sum = torch.zeros((), device=dev)
            ema = lw if ema is None else 0.8 * ema + 0.2 * lw
            el = time.time() - t_start
            log_(fh, f"step {step} loss {ema:.4f} lr {lr:.2e} ex {seen_ex} tok {seen_tok} "
                    f"elapsed {el:.0f}s ({step/el:.2f} step/s)")
        if rank == 0 and time.time() - last_eval > a.eval_every:
            res = quick_eval(core, tok, heldout)
            log_(fh, f"eval step {step}: " + " ".join(f"{k}={v:.2f}" for k, v in res.items()))
            save_ckpt(core, cfg, os.path.join(a.out, "ckpt.pt"))
            last_eval = time.time()
    el = time.time() - t_start
    if rank != 0:
        return
    seen_ex *= a.ddp
    seen_tok *= a.ddp
    loss_tok = int(M[:, 1:].float().sum().item() * seen_ex / max(1, M.shape[0]))  # estimate: mean per example
    res = quick_eval(core, tok, heldout, n_per_family=50)
    log_(fh, f"final eval step {step}: " + " ".join(f"{k}={v:.2f}" for k, v in res.items()))
    stats = {"preset": a.preset, "params": core.num_params(), "steps": step, "batch_size": a.batch,
             "examples_seen": seen_ex, "tokens_seen": seen_tok, "loss_tokens": loss_tok,
             "train_seconds": round(el, 1), "final_loss_ema": round(ema or 0.0, 4), "lr": a.lr, "loss_on": a.loss_on,
             "threads": a.threads, "ddp_processes": a.ddp, "threads_after": a.threads_after, "grown_from": a.grow_from, "corpus_examples": len(sel), "corpus_generated": len(d["fams"]), "corpus_tokens": n_tok,
             "epochs_completed": epochs, "family_weights": a.family_weights, "exclude_families": a.exclude_families, "budget_seconds": a.seconds, "budget_steps": a.max_steps,
             "torch_version": str(torch.__version__), "device": dev.type, "device_name": device_name,
             "final_quick_eval": {k: round(v, 3) for k, v in res.items()}}
    save_ckpt(core, cfg, os.path.join(a.out, "ckpt.pt"), stats)
    with open(os.path.join(a.out, "train_stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    log_(fh, "done " + json.dumps(stats))


if __name__ == "__main__":
    main()
