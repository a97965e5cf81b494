/**
 * GET a JSON body on the cold path (signal polls): 5 s for the headers and for the body; anything but HTTP 200 is an
 * error naming the URL and the status (the body is drained).
 */
import { request } from 'undici';

export async function getJson(url: string): Promise<unknown> {
  const res = await request(url, { method: 'GET', headersTimeout: 5_000, bodyTimeout: 5_000 });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`GET ${url}: HTTP ${res.statusCode}`);
  }
  return res.body.json();
}
