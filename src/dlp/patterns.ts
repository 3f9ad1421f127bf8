/**
 * Every regular expression the DLP detectors use. Each one is proven free of catastrophic
 * backtracking by recheck in test/waf/linear-matching.test.ts. Token patterns start with a
 * negative look-behind so a run of token characters is entered once, at its start.
 */
export const PATTERNS = {
  /** 13–19 digits, optionally grouped by single spaces or dashes. */
  card: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])/g,
  ssn: /(?<![\d-])(\d{3})-(\d{2})-(\d{4})(?![\d-])/g,
  nino: /(?<![A-Z0-9])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])(?![A-Z0-9])/g,
  iban: /(?<![A-Z0-9])([A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30})(?![A-Z0-9])/g,
  email:
    /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z])/g,
  privateKeyBegin: /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----/g,
  awsAccessKey: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])/g,
  githubToken:
    /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])/g,
  slackToken: /(?<![A-Za-z0-9-])xox[abposr]-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])/g,
  stripeKey: /(?<![A-Za-z0-9_])(?:sk|rk)_live_[A-Za-z0-9]{16,247}(?![A-Za-z0-9])/g,
  googleApiKey: /(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/g,
  jwt: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,8192}\.eyJ[A-Za-z0-9_-]{4,16384}\.[A-Za-z0-9_-]{0,8192}(?![A-Za-z0-9_-])/g,
} as const;
