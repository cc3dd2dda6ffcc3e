/**
 * ttft_growth_server (ttft-growth.mjs says what it measures): the scripted conversations through the
 * reference server, with its prefix cache on and off (two server processes), TTFT on the server's
 * own clock beside the client's.
 */
import { startReferenceServer } from './hosted.mjs';
import { BASELINE_TURNS, NO_REUSE_REPEATS, WARMUP_TURNS, asked, generatedTokens, growth, perTurn, r2, turnsFor } from './ttft-conversation.mjs';

/** The server's timing of request `id` (recorded when its response ends; polled briefly). */
async function serverTiming(server, id) {
  for (let i = 0; i < 40; i++) {
    const res = await fetch(`${server.baseURL}/slm/stats/${encodeURIComponent(id)}`);
    if (res.ok) return res.json();
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}

/**
 * One streamed request from Node; TTFT to the first content delta, the usage, and the server's
 * timing: arrival → generator start (`queuedMs`: body, chat template, tokenization, queue) and →
 * first token (`firstTokenMs`; the difference is the prefill of the new tokens and the first step).
 */
async function streamOnce(server, messages, n) {
  const t0 = performance.now();
  const res = await fetch(`${server.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: server.model, messages, max_tokens: n, min_tokens: n, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  });
  let ttft = null;
  let text = '';
  let usage = null;
  let buf = '';
  const decoder = new TextDecoder();
  for await (const part of res.body) {
    buf += decoder.decode(part, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) !== -1) {
      const line = buf.slice(0, i).replace(/^data: /, '');
      buf = buf.slice(i + 2);
      if (line === '[DONE]') continue;
      const ev = JSON.parse(line);
      const d = ev.choices?.[0]?.delta?.content;
      if (d) {
        ttft ??= performance.now() - t0;
        text += d;
      }
      if (ev.usage) usage = ev.usage;
    }
  }
  const id = res.headers.get('x-request-id');
  const timing = id ? await serverTiming(server, id) : null;
  return { ttft, text, usage, timing };
}

/** The script through the server; `prime`: as in localConversation (the server's prefix cache is on). */
async function serverConversation(server, script, tag, prime, turnsAsked = null) {
  const messages = [{ role: 'system', content: script.system }];
  const out = [];
  for (const [i, content] of turnsFor(script, tag).entries()) {
    messages.push({ role: 'user', content });
    if (turnsAsked && !turnsAsked.includes(i)) {
      messages.push({ role: 'assistant', content: script.answers[i] });
      out.push(null);
      continue;
    }
    const r = await streamOnce(server, messages, generatedTokens(script));
    const t = r.timing;
    out.push({
      ttft: r.ttft,
      input: r.usage?.prompt_tokens ?? null,
      cached: r.usage?.prompt_tokens_details?.cached_tokens ?? null,
      queuedMs: t?.queuedMs ?? null,
      prefillMs: t && t.firstTokenMs !== null ? t.firstTokenMs - t.queuedMs : null,
      serverTtft: t?.firstByteMs ?? null,
    });
    messages.push({ role: 'assistant', content: script.answers?.[i] ?? r.text });
    if (prime && script.prime && i < 7) await streamOnce(server, messages, 1);
  }
  return out;
}

/** ttft_growth_server with the prefix cache on and off (two server processes), per-turn medians over `repeats` (`baselineRepeats` without). */
export async function ttftGrowthServer({ target, repeats = 5, baselineRepeats = NO_REUSE_REPEATS, log = () => {} }) {
  const { script, dtype } = target;
  const result = { model: target.label, dtype };
  for (const [key, args] of [
    ['', []],
    ['_no_reuse', ['--kv-cache-mb', '0']],
  ]) {
    const t0 = performance.now();
    // A scale model loads for minutes on a busy machine (135M fp32: 652 MB).
    const server = await startReferenceServer({ model: target.server.model, extraArgs: [...target.server.extraArgs, '--dtype', dtype, ...args], log, timeoutMs: 900_000 });
    log(`ttft growth, server ${target.label} ${dtype}${key}: started in ${Math.round(performance.now() - t0)} ms`);
    try {
      // Uncounted: the first answers after a start run cold.
      await serverConversation(server, script, 0, !key, key ? asked(script, BASELINE_TURNS) : asked(script, WARMUP_TURNS));
      const runs = [];
      const n = key ? baselineRepeats : repeats;
      for (let i = 1; i <= n; i++) {
        runs.push(await serverConversation(server, script, i, !key, key ? asked(script, BASELINE_TURNS) : null));
        log(`ttft growth, server ${target.label} ${dtype}${key}: conversation ${i}/${n}: turn 1 → 8 ${r2(runs.at(-1)[0].serverTtft)} → ${r2(runs.at(-1)[7].serverTtft)} ms (client ${r2(runs.at(-1)[0].ttft)} → ${r2(runs.at(-1)[7].ttft)})`);
      }
      const ttfts = perTurn(runs, 'serverTtft');
      const clientTtfts = perTurn(runs, 'ttft');
      result[`ttft_growth_server${key}`] = growth(ttfts);
      result[`ttft_growth_server${key}_runs`] = runs.map((r) => growth(r.map((t) => t?.serverTtft ?? null)));
      result[`ttft_ms_per_turn_server${key}`] = ttfts;
      result[`ttft_growth_server${key}_client`] = growth(clientTtfts);
      result[`ttft_ms_per_turn_server${key}_client`] = clientTtfts;
      result[`queued_ms_per_turn_server${key}`] = perTurn(runs, 'queuedMs');
      result[`prefill_ms_per_turn_server${key}`] = perTurn(runs, 'prefillMs');
      if (!key) result.cached_tokens_per_turn = runs[0].map((t) => t.cached);
      if (!key) result.prompt_tokens_per_turn_server = runs[0].map((t) => t.input);
    } finally {
      await server.stop();
    }
  }
  log(`ttft growth, server ${target.label} ${dtype}: ${result.ttft_growth_server} with the prefix cache, ${result.ttft_growth_server_no_reuse} without`);
  return result;
}
