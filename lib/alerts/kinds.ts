/**
 * The kinds of device alert. Apart from the rules (rules.ts) so that the
 * browser's alert feed can check them without loading the rules' schemas.
 */
export const ALERT_KINDS = ["offline", "late", "flapping", "near-miss", "never_seen"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
