/** The attack classes the injection stage knows. `encoding` covers evasion signals (double encoding, NUL). */
export const ATTACK_CLASSES = [
  'sqli',
  'nosqli',
  'cmdi',
  'traversal',
  'xss',
  'ssti',
  'ssrf',
  'encoding',
] as const;
export type AttackClass = (typeof ATTACK_CLASSES)[number];

/** 1 = few false positives (default) … 4 = most aggressive. A rule fires at its level and above. */
export type Paranoia = 1 | 2 | 3 | 4;

/** What a content detector reports: the rule id that fired (documented in docs/injection.md). */
export type RuleHit = string | undefined;

export function isAttackClass(value: string): value is AttackClass {
  return (ATTACK_CLASSES as readonly string[]).includes(value);
}
