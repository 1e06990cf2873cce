// A small fake OTLP/HTTP metrics receiver for unit tests: a real HTTP server on 127.0.0.1:0 that records every
// request (time, bytes) and answers what the test asks (200, or 503 with a Retry-After). To attribute a
// request to its pod and read the `orders` points it walks the protobuf wire format of the few fields it
// needs (ExportMetricsServiceRequest → resource attribute `pod`, Sum `orders` points, temporality); it is not
// an OTLP implementation, only enough to check what the real SDK sent.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

interface Field {
  no: number;
  wire: number;
  /** varint / fixed value */
  num: bigint;
  bytes: Buffer;
}

function varint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
  throw new Error('bad varint');
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = varint(buf, pos);
    pos = p1;
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, p2] = varint(buf, pos);
      out.push({ no, wire, num: v, bytes: Buffer.alloc(0) });
      pos = p2;
    } else if (wire === 1) {
      out.push({ no, wire, num: buf.readBigUInt64LE(pos), bytes: buf.subarray(pos, pos + 8) });
      pos += 8;
    } else if (wire === 2) {
      const [len, p2] = varint(buf, pos);
      const end = p2 + Number(len);
      out.push({ no, wire, num: 0n, bytes: buf.subarray(p2, end) });
      pos = end;
    } else if (wire === 5) {
      out.push({ no, wire, num: BigInt(buf.readUInt32LE(pos)), bytes: buf.subarray(pos, pos + 4) });
      pos += 4;
    } else throw new Error(`wire type ${wire}`);
  }
  return out;
}

const sub = (buf: Buffer, no: number) => fields(buf).filter((f) => f.no === no);

export interface DecodedExport {
  pod: string | null;
  /** Sum of the `orders` points (cumulative: the totals; delta: this interval's increments). */
  orders: number;
  /** Data points of every metric, and of `orders`. */
  points: number;
  ordersPoints: number;
  /** 1 = delta, 2 = cumulative (of the `orders` sum), 0 = none seen. */
  temporality: number;
}

/** Data points of one Metric message (gauge 5, sum 7, histogram 9, exp. histogram 10, summary 11). */
function metricPoints(metric: Buffer): { name: string; points: Buffer[]; temporality: number } {
  const fs = fields(metric);
  const name = fs.find((f) => f.no === 1)?.bytes.toString('utf8') ?? '';
  for (const kind of [5, 7, 9, 10, 11]) {
    const data = fs.find((f) => f.no === kind);
    if (!data) continue;
    const df = fields(data.bytes);
    const temporality = Number(df.find((f) => f.no === 2 && f.wire === 0)?.num ?? 0n);
    return { name, points: df.filter((f) => f.no === 1).map((f) => f.bytes), temporality };
  }
  return { name, points: [], temporality: 0 };
}

function numberValue(point: Buffer): number {
  for (const f of fields(point)) {
    if (f.no === 4 && f.wire === 1) return f.bytes.readDoubleLE(0); // as_double
    if (f.no === 6 && f.wire === 1) return Number(f.bytes.readBigInt64LE(0)); // as_int
  }
  return 0;
}

export function decodeExport(body: Buffer): DecodedExport {
  const out: DecodedExport = { pod: null, orders: 0, points: 0, ordersPoints: 0, temporality: 0 };
  for (const rm of sub(body, 1)) {
    for (const resource of sub(rm.bytes, 1))
      for (const kv of sub(resource.bytes, 1)) {
        const key = sub(kv.bytes, 1)[0]?.bytes.toString('utf8');
        const value = sub(kv.bytes, 2)[0];
        if (key === 'pod' && value) out.pod = sub(value.bytes, 1)[0]?.bytes.toString('utf8') ?? null;
      }
    for (const sm of sub(rm.bytes, 2))
      for (const m of sub(sm.bytes, 2)) {
        const { name, points, temporality } = metricPoints(m.bytes);
        out.points += points.length;
        if (name === 'orders') {
          out.temporality = temporality;
          out.ordersPoints += points.length;
          for (const p of points) out.orders += numberValue(p);
        }
      }
  }
  return out;
}

export interface ReceivedRequest extends DecodedExport {
  atMs: number;
  bytes: number;
  status: number;
  /** Index of this request among the pod's requests (0-based). */
  podIndex: number;
}

/** What to answer: the status, and Retry-After seconds for a 429/503. */
export type Answer = { status: 200 } | { status: 429 | 503; retryAfterS: number };

export interface OtlpReceiver {
  url: string;
  requests: ReceivedRequest[];
  byPod(pod: string): ReceivedRequest[];
  close(): Promise<void>;
}

export async function otlpReceiver(
  answer: (pod: string | null, podIndex: number) => Answer = () => ({ status: 200 }),
): Promise<OtlpReceiver> {
  const requests: ReceivedRequest[] = [];
  const perPod = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const atMs = Date.now();
      let body = Buffer.concat(chunks);
      const bytes = body.length;
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const decoded = decodeExport(body);
      const key = decoded.pod ?? '';
      const podIndex = perPod.get(key) ?? 0;
      perPod.set(key, podIndex + 1);
      const a = answer(decoded.pod, podIndex);
      requests.push({ ...decoded, atMs, bytes, status: a.status, podIndex });
      const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
      if (a.status !== 200) headers['retry-after'] = String(a.retryAfterS);
      res.writeHead(a.status, headers);
      res.end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    requests,
    byPod: (pod) => requests.filter((r) => r.pod === pod),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
