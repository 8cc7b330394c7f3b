/**
 * Findings: something wrong with a device (or a host acting on devices), with its severity, the
 * evidence and what to do about it. The inventory's lifecycle and vulnerability results are
 * findings too; this file holds the shared vocabulary and the error-disclosure (leak) and
 * reconnaissance shapes.
 */

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Kinds of fact an error message can give away. */
export const LEAK_FACT_KINDS = [
  'web_server',
  'framework',
  'language',
  'runtime',
  'database',
  'os',
  'path',
  'source_location',
  'internal_host',
  'internal_ip',
  'username',
  'sql',
  'stack_trace',
  'product',
  'protocol',
] as const;
export type LeakFactKind = (typeof LEAK_FACT_KINDS)[number];

/** One fact that leaked: "database = Oracle, version 11g", "path = C:\inetpub\wwwroot\app\login.aspx". */
export interface LeakFact {
  kind: LeakFactKind;
  value: string;
  version?: string;
}

/** Where a leak was seen: the observation that carried it. */
export interface LeakEvidence {
  protocol: string;
  attribute: string;
  frame: number;
  time: number;
  /** The text that leaked, redacted (patient data, secrets), at most a few hundred characters. */
  snippet: string;
}

/** A device that discloses its internals on the wire. */
export interface LeakFinding {
  /** Id of the pattern that recognised it (data/leak-patterns.json): 'aspnet-ysod', 'oracle-ora-error' … */
  pattern: string;
  /** In words: "ASP.NET error page with a stack trace". */
  title: string;
  facts: LeakFact[];
  evidence: LeakEvidence;
  /** Severity of the leak itself, before the device's clinical criticality is weighed in. */
  severity: Severity;
  /** What the device's owner (or its manufacturer) should change. */
  remediation: string;
}
