/** One problem found in a configuration file. */
export interface ConfigIssue {
  /** JSON pointer inside the document, e.g. `/routes/2/upstream`. */
  readonly pointer: string;
  /** What is wrong and what is expected. */
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

/**
 * An operator mistake in configuration. Stops a start or a reload; never reaches clients.
 * The message names the file, the place inside it and what was expected.
 */
export class ConfigError extends Error {
  readonly file: string;
  readonly issues: readonly ConfigIssue[];

  constructor(file: string, issues: readonly ConfigIssue[]) {
    super(formatIssues(file, issues));
    this.name = 'ConfigError';
    this.file = file;
    this.issues = issues;
  }
}

export function formatIssues(file: string, issues: readonly ConfigIssue[]): string {
  return issues
    .map((issue) => {
      const where = issue.line === undefined ? file : `${file}:${issue.line}:${issue.column ?? 1}`;
      return `${where}: ${issue.pointer || '/'}: ${issue.message}`;
    })
    .join('\n');
}
