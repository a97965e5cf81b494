/** Helpers to point ccxt (a third-party client written for the real exchanges) at the simulator: only the hosts
 * change, paths, query strings and payloads stay ccxt's own. */

/** Replace the scheme+host of every URL string (recursively) under `urls.api` with `base` (http://127.0.0.1:PORT or
 * ws://127.0.0.1:PORT), keeping the path. `only` limits the rewrite to top-level keys (e.g. REST vs ws). */
export function rebase(api: Record<string, unknown>, base: string, only?: (key: string) => boolean): void {
  for (const k of Object.keys(api)) {
    if (only && !only(k)) continue;
    const v = api[k];
    if (typeof v === 'string') api[k] = v.replace(/^[a-z]+:\/\/[^/]+/, base);
    else if (v && typeof v === 'object') rebase(v as Record<string, unknown>, base);
  }
}

/** Number of decimals a tick/step like "0.01" has. */
export function decimals(step: string): number {
  const d = step.indexOf('.');
  return d < 0 ? 0 : step.replace(/0+$/, '').length - d - 1;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `f` until it returns a value (not undefined) or `ms` elapse. */
export async function until<T>(f: () => T | undefined | Promise<T | undefined>, ms = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(20);
  }
}
