/**
 * What both sides of the TTFT-growth benchmark (ttft-growth.mjs: the model worker;
 * ttft-growth-server.mjs: the reference server) share: the figures (`growth`, `perTurn`), which
 * turns a conversation asks and how many tokens each generates, and the baselines' size.
 */
import { median } from '../../src/metrics/stats.ts';

export const r2 = (x) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);

export const growth = (ttfts) => (ttfts.length === 8 && ttfts[0] > 0 ? r2(ttfts[7] / ttfts[0]) : null);

/** The script's user turns for conversation number `tag`: the first turn names it (same length). */
export function turnsFor(script, tag) {
  const first = script.turns[0];
  return [`#${tag} ${first}`.slice(0, script.short ? first.length : undefined), ...script.turns.slice(1)];
}

/**
 * Tokens each turn generates. Where the history carries scripted answers (a scale model), what the
 * model generates is dropped before the next turn (the kept state's tail past the user turn is
 * trimmed, and `prime` puts the scripted answer there), so only the first token, the one TTFT
 * times, is generated: the 39 after it were ~24 s of each 42 s local conversation at 135M (1
 * thread, 2026-12-01) and ~16 s of each server one. The model's own answers (an embedded model) are
 * generated whole: they are the history.
 */
export const generatedTokens = (script) => (script.answers ? 1 : script.answerTokens);

/**
 * The turns a conversation asks (null: all eight). Without reuse every prompt is prefilled whole,
 * so turn 8's TTFT does not depend on turns 2–7 having been asked: where the history is scripted
 * (a scale model) the no-reuse baselines ask turns 1 and 8 only, with turns 2–7 in the history
 * as scripted answers; the warm-up conversations before counted ones ask the first three (the cold
 * answers after a load or a server start are the first one or two: turn 1 at 1747 ms, the next at
 * 65–210 ms, slm-reference fp32). Measured 2026-12-01 (135M fp32, 1 thread): a no-reuse
 * conversation took ~2.1 min locally (turn 8 alone 11.5 s) and its server pair ~1.4 min; a
 * warm-up conversation ~40 s; together ~5 of the bench's 60 minutes.
 */
export const BASELINE_TURNS = [0, 7];
export const WARMUP_TURNS = [0, 1, 2];
export const asked = (script, turns) => (script.answers ? turns : null);

export const perTurn = (runs, key) => Array.from({ length: 8 }, (_, t) => r2(median(runs.map((r) => r[t]?.[key] ?? null))));

/**
 * Conversations of the no-reuse baselines (local and server), of `repeats` with reuse. The
 * baseline is context, not a target, and at scale it is the slow part: on the 135M shape (fp32,
 * AMD EPYC, 2026-12-01) a local conversation without reuse took ~60 s (turn 8's prompt 9.4–12.5 s),
 * one with reuse ~20 s, and five of each were 8 of the whole bench's 66 minutes; its five
 * conversations' growths were 9.4–12.4 local and 9.0–10.9 on the server, so two place it. One
 * since 2026-12-01's sixteenth session: with two, the 135M shape's TTFT growth took 11.1 of a
 * 60-minute bench (local 6.0 min, server 5.0), the baselines about half of it; one conversation
 * places the figure within ±15% (the five above), and it reads 9.5 against 1.3 with reuse.
 */
export const NO_REUSE_REPEATS = 1;
