// Why a packet was dropped, in a network engineer's words: the cause, the facts known about it, and one
// sentence. The cause is the kernel's drop reason, or a closer one the place of the drop tells (rules.ts:
// IP_INHDR in ip_forward is an expired TTL). Some drops are not failures (a reply a raw socket got its own
// copy of, a queue emptied as its socket closed): they say so and are counted apart.
import { REASON_TEXT } from "./reasons.js";
import { ruleFor } from "./rules.js";

/** A fact about one drop (read in the kernel at the drop, or looked up after): none are read yet. */
export interface Fact {
  name: string;
  value: string;
}

export interface Explanation {
  /** What caused the drop, the summary's key: the reason's name, or a closer cause (TTL_EXPIRED). */
  cause: string;
  /** false: the kernel frees the packet as a drop, but nothing failed (counted apart from drops). */
  failure: boolean;
  /** One sentence, lower case first, no final period (it follows the verdict). */
  text: string;
  facts: readonly Fact[];
}

const NO_FACTS: readonly Fact[] = Object.freeze([]);

/** The explanation of a drop with reason `reason` (its name in enum skb_drop_reason, without the prefix)
 * freed in function `fn` (the kfree_skb tracepoint's location, symbolized; "" when unknown). Undefined
 * for a reason this table does not know (a newer kernel's, a subsystem's): its name is all there is. */
export function explainDrop(reason: string, fn: string): Explanation | undefined {
  const rule = ruleFor(reason, fn);
  if (rule) return { cause: rule.cause, failure: rule.failure, text: rule.text, facts: NO_FACTS };
  const text = REASON_TEXT[reason];
  return text === undefined ? undefined : { cause: reason, failure: true, text, facts: NO_FACTS };
}

/** `text` with its facts, `text (name value, ...)`: how every output writes an explanation in words. */
export function explanationText(e: Explanation): string {
  if (e.facts.length === 0) return e.text;
  return `${e.text} (${e.facts.map((f) => `${f.name} ${f.value}`).join(", ")})`;
}

/** The JSON object an explanation is written as: {"cause","failure","text"[,"facts":{name: value}]}. */
export function explanationJson(e: Explanation): string {
  const facts =
    e.facts.length === 0
      ? ""
      : `,"facts":{${e.facts.map((f) => `${JSON.stringify(f.name)}:${JSON.stringify(f.value)}`).join(",")}}`;
  return `{"cause":${JSON.stringify(e.cause)},"failure":${e.failure},"text":${JSON.stringify(e.text)}${facts}}`;
}
