export interface ConfigIssue {
  /** dotted path of the offending field, e.g. `risk.maxOrderQty` or `env.TICKWIRE__RISK__MAX_ORDER_QTY` */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super('invalid configuration:\n' + issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
