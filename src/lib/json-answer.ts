/**
 * The one way JSON is read out of a model's answer (suite scorers, the JSON-mode verdict, the
 * agreement measure): the whole trimmed text when it parses, else the first ``` fence (```json or
 * bare) whose content parses. Free-running models wrap JSON in fences; constrained ones do not.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** ``` or ```json, a line break, the content, the closing ```. */
const FENCE = /```[ \t]*(?:json)?[ \t]*\r?\n([\s\S]*?)```/giu;

function parsed(text: string): { value: JsonValue } | null {
  try {
    return { value: JSON.parse(text) as JsonValue };
  } catch {
    return null;
  }
}

/**
 * JSON in an answer, or null when there is none. Every fence is parsed at most once and fences do
 * not overlap, so the work is linear in the answer's length however many fences fail.
 */
export function jsonInAnswer(answer: string): { value: JsonValue } | null {
  const t = answer.trim();
  const whole = parsed(t);
  if (whole) return whole;
  for (const m of t.matchAll(FENCE)) {
    const fenced = parsed(m[1] ?? '');
    if (fenced) return fenced;
  }
  return null;
}
