// One HTTP GET on loopback, timed: used for the pull scrape and to read the collector's counters.

import { request } from 'node:http';
import { LabError } from '@pushpull/common';

export interface GetResult {
  status: number;
  body: Buffer;
  /** Request start to last body byte, milliseconds (a fresh connection: agent disabled). */
  ms: number;
}

export function httpGet(url: string, timeoutMs = 5000): Promise<GetResult> {
  const u = new URL(url);
  if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost' && u.hostname !== '[::1]')
    return Promise.reject(new LabError('LAB_ERR_ADDRESS', `refusing non-loopback URL "${url}"`));
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request(u, { method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks),
          ms: Number(process.hrtime.bigint() - t0) / 1e6,
        }),
      );
    });
    req.on('timeout', () =>
      req.destroy(new LabError('LAB_ERR_TIMEOUT', `GET ${url}: no answer in ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end();
  });
}
