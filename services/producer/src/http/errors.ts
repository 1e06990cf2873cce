import { isLabError } from '@pushpull/common';
import { describeValue } from '../describe-value.ts';

// Every error the HTTP layer answers, as one status and one contract body
// `{"error":{"code":"LAB_ERR_CONTROL","message":"<field>: ...","field":"<field>"|null}}` (docs/contracts.md).
// Pure: maps what fastify hands its error handler (schema errors, body-parser errors, our LabErrors).

export interface ErrorBody {
  error: { code: string; message: string; field: string | null };
}

export interface HttpError {
  status: number;
  body: ErrorBody;
}

export function errorBody(message: string, field: string | null = null, code = 'LAB_ERR_CONTROL'): ErrorBody {
  return { error: { code, message, field } };
}

/** The subset of an Ajv error we read (fastify passes Ajv's errors through as `error.validation`). */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
  data?: unknown;
  parentSchema?: { properties?: Record<string, unknown> };
}

/** `/profile/instruments/open` -> `profile.instruments.open` (JSON Pointer, ~1 and ~0 unescaped). */
function pointerToField(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

const join = (a: string, b: string) => (a === '' ? b : `${a}.${b}`);

/** One schema error as the contract's field and message (the message starts with the field). */
export function schemaError(e: SchemaError): { field: string | null; message: string } {
  const at = pointerToField(e.instancePath);
  const p = e.params;
  let field: string;
  let what: string;
  switch (e.keyword) {
    case 'required':
      field = join(at, String(p.missingProperty));
      what = 'is required';
      break;
    case 'additionalProperties': {
      field = join(at, String(p.additionalProperty));
      const known = Object.keys(e.parentSchema?.properties ?? {});
      what = known.length > 0 ? `unknown field; known: ${known.join(', ')}` : 'unknown field; none are known';
      break;
    }
    case 'enum':
      field = at;
      what = `${describeValue(e.data)} is not one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'type':
      field = at;
      if (at === '')
        return { field: null, message: `the body must be a JSON object, got ${describeValue(e.data)}` };
      what = `${describeValue(e.data)} is not ${aOrAn(String(p.type))}`;
      break;
    case 'minimum':
    case 'maximum':
      field = at;
      what = `${describeValue(e.data)} is ${e.keyword === 'minimum' ? 'below the minimum' : 'above the maximum'} ${String(p.limit)}`;
      break;
    case 'pattern':
      field = at;
      what = `${describeValue(e.data)} does not match ${String(p.pattern)}`;
      break;
    default:
      field = at;
      what = `${describeValue(e.data)} ${e.message ?? `fails ${e.keyword}`}`;
  }
  if (field === '') return { field: null, message: `body: ${what}` };
  return { field, message: `${field}: ${what}` };
}

function aOrAn(type: string): string {
  const t = type.replace(/,/g, ' or ');
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

interface FrameworkError {
  code?: string;
  statusCode?: number;
  message: string;
  validation?: SchemaError[];
}

/** Body limit in the 413 message, so the client knows what fits. */
export function toHttpError(e: unknown, bodyLimit: number): HttpError {
  if (isLabError(e)) {
    const d = e.details ?? {};
    const status = typeof d.status === 'number' ? d.status : 400;
    return { status, body: errorBody(e.message, typeof d.field === 'string' ? d.field : null, e.code) };
  }
  const f = e as FrameworkError;
  if (Array.isArray(f.validation) && f.validation.length > 0) {
    const { field, message } = schemaError(f.validation[0]!);
    return { status: 400, body: errorBody(message, field) };
  }
  switch (f.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: errorBody(`body: larger than ${bodyLimit} bytes`, 'body') };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: errorBody('body: send it as application/json', 'body') };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, body: errorBody('body: its length differs from content-length', 'body') };
  }
  const status = typeof f.statusCode === 'number' && f.statusCode >= 400 ? f.statusCode : 500;
  return { status, body: errorBody(f.message) };
}
