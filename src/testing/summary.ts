/** How the explorers name a failure in one line. */
import { describe } from "../internal/validate.js";

/**
 * @internal `Name: first line of the message` (a trailing colon dropped: node:assert's diff
 * follows one), or a description of a thrown non-error.
 */
export function summary(error: unknown): string {
  if (!(error instanceof Error)) return describe(error);
  const line = (error.message.split("\n")[0] ?? "").replace(/:$/, "");
  return line === "" ? error.name : `${error.name}: ${line}`;
}
