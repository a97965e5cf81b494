/**
 * API secrets: only from the environment or from a file nobody but the owner can read.
 *
 * Environment: TICKWIRE_BINANCE_API_KEY, TICKWIRE_BINANCE_API_SECRET, TICKWIRE_BYBIT_API_KEY, TICKWIRE_BYBIT_API_SECRET
 * (plus TICKWIRE_BINANCE_ED25519_KEY_FILE for a PEM path). File: JSON {"binance":{"apiKey","apiSecret"},"bybit":{...}}
 * with mode 0600/0400; a file readable or writable by group/others is refused with an error naming the mode.
 */
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './errors.js';

export interface ApiCredentials {
  apiKey: string;
  apiSecret: string;
}

export interface Secrets {
  binance?: ApiCredentials;
  bybit?: ApiCredentials;
}

const creds = z.object({ apiKey: z.string().min(1), apiSecret: z.string().min(1) }).strict();
const secretsFileSchema = z.object({ binance: creds.optional(), bybit: creds.optional() }).strict();

/** Throws ConfigError when the file's permissions let group/others in. */
export function checkSecretFileMode(path: string): void {
  const st = statSync(path);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new ConfigError([
      {
        path: 'secretsFile',
        message: `${path} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}; secrets must not be accessible to group/others (chmod 600 ${path})`,
      },
    ]);
  }
}

export function loadSecrets(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Secrets {
  const out: Secrets = {};
  if (file !== undefined) {
    checkSecretFileMode(file);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError([{ path: 'secretsFile', message: `cannot read ${file} as JSON: ${(e as Error).message}` }]);
    }
    const r = secretsFileSchema.safeParse(raw);
    // never echo the values: only the paths of the bad fields
    if (!r.success) throw new ConfigError(r.error.issues.map((i) => ({ path: `secretsFile:${i.path.join('.')}`, message: i.message })));
    if (r.data.binance) out.binance = r.data.binance;
    if (r.data.bybit) out.bybit = r.data.bybit;
  }
  for (const ex of ['binance', 'bybit'] as const) {
    const k = env[`TICKWIRE_${ex.toUpperCase()}_API_KEY`];
    const s = env[`TICKWIRE_${ex.toUpperCase()}_API_SECRET`];
    if (k && s) out[ex] = { apiKey: k, apiSecret: s };
    else if (k || s) throw new ConfigError([{ path: `env.TICKWIRE_${ex.toUpperCase()}_API_${k ? 'SECRET' : 'KEY'}`, message: 'API key and secret must be set together' }]);
  }
  return out;
}
