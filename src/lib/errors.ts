/** The one way an unknown thrown value becomes text for a message, a log line or a verdict. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
