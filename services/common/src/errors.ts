// One error catalogue for the whole lab. Codes are stable (scripts and CI pipelines match on them);
// messages always carry the offending value so a user can fix the input without reading code.
export const ErrorCodes = {
  LAB_ERR_FLAG_UNKNOWN: 'unknown flag',
  LAB_ERR_FLAG_VALUE: 'bad flag value',
  LAB_ERR_CONFIG: 'invalid configuration',
  LAB_ERR_ADDRESS: 'invalid address',
  LAB_ERR_PROFILE: 'invalid workload profile',
  LAB_ERR_CONTROL: 'invalid control request',
  LAB_ERR_DOCKER_UNREACHABLE: 'docker engine unreachable',
  LAB_ERR_MISSING_BINARY: 'required program not installed',
  LAB_ERR_NO_RUNTIME: 'no runtime available',
  LAB_ERR_IMAGE_MISSING: 'container image missing',
  LAB_ERR_TIMEOUT: 'timed out',
  LAB_ERR_CHILD_EXIT: 'child process exited',
  LAB_ERR_PROMETHEUS: 'prometheus query failed',
  LAB_ERR_SCENARIO: 'invalid scenario',
  LAB_ERR_INTERRUPTED: 'interrupted',
  LAB_ERR_SWARM: 'docker swarm not usable',
  LAB_ERR_FAULT_UNSUPPORTED: 'fault not supported on this runtime',
  LAB_ERR_SELF_CHECK: "the lab's own check failed (a limit asked for is not in force)",
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class LabError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'LabError';
    this.code = code;
    this.details = details;
  }
  override toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

export function isLabError(e: unknown, code?: ErrorCode): e is LabError {
  return e instanceof LabError && (code === undefined || e.code === code);
}

/** Formats any thrown value for a terminal: LabErrors by code, everything else by message. */
export function describeError(e: unknown): string {
  if (e instanceof LabError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
