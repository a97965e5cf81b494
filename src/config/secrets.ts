/**
 * API secrets: only from the environment or from a file nobody but the owner can read.
 *
 * Environment: TICKWIRE_BINANCE_API_KEY, TICKWIRE_BINANCE_API_SECRET, TICKWIRE_BYBIT_API_KEY, TICKWIRE_BYBIT_API_SECRET,
 * and Binance's Ed25519 key (WS API `session.logon`: orders then go unsigned per request):
 * TICKWIRE_BINANCE_ED25519_API_KEY + TICKWIRE_BINANCE_ED25519_KEY_FILE (path of the PKCS#8 PEM private key).
 * File: JSON {"binance":{"apiKey","apiSecret","ed25519ApiKey","ed25519KeyFile"},"bybit":{"apiKey","apiSecret"}}
 * with mode 0600/0400; a file (secrets file or PEM) readable or writable by group/others is refused with an error
 * naming the mode. Binance needs an HMAC pair, an Ed25519 pair, or both (REST signs with HMAC when it has one).
 * The Telegram bot token of `tickwire bot` (and of the watchdog's alerts): env TICKWIRE_TELEGRAM_BOT_TOKEN, or the
 * file's {"telegram":{"botToken"}}.
 */
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from './errors.js';
import type { Config } from './schema.js';

export interface ApiCredentials {
  apiKey: string;
  apiSecret: string;
}

/** Binance: an HMAC pair and/or an Ed25519 pair (API key + PEM private key). */
export interface BinanceCredentials extends Partial<ApiCredentials> {
  ed25519ApiKey?: string;
  ed25519PrivateKeyPem?: string;
}

export interface Secrets {
  binance?: BinanceCredentials;
  bybit?: ApiCredentials;
  telegram?: { botToken: string };
}

const creds = z.object({ apiKey: z.string().min(1), apiSecret: z.string().min(1) }).strict();
const binanceCreds = z
  .object({
    apiKey: z.string().min(1).optional(),
    apiSecret: z.string().min(1).optional(),
    ed25519ApiKey: z.string().min(1).optional(),
    ed25519KeyFile: z.string().min(1).optional(),
  })
  .strict()
  .refine((c) => (c.apiKey === undefined) === (c.apiSecret === undefined), { message: 'apiKey and apiSecret must be set together', path: ['apiSecret'] })
  .refine((c) => (c.ed25519ApiKey === undefined) === (c.ed25519KeyFile === undefined), {
    message: 'ed25519ApiKey and ed25519KeyFile must be set together',
    path: ['ed25519KeyFile'],
  })
  .refine((c) => c.apiKey !== undefined || c.ed25519ApiKey !== undefined, {
    message: 'an HMAC pair (apiKey, apiSecret) or an Ed25519 pair (ed25519ApiKey, ed25519KeyFile)',
    path: [],
  });
/** Bot API tokens look like `123456789:AA...`; anything else is a paste error */
const telegramCreds = z.object({ botToken: z.string().regex(/^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$/, 'must be a Bot API token (digits:characters)') }).strict();
const secretsFileSchema = z.object({ binance: binanceCreds.optional(), bybit: creds.optional(), telegram: telegramCreds.optional() }).strict();

/** Reads an Ed25519 PEM private key from a 0600/0400 file; errors name `field`, never the key. */
function readPemKey(path: string, field: string): string {
  let pem: string;
  try {
    checkSecretFileMode(path, field);
    pem = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError([{ path: field, message: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
  }
  if (!pem.includes('-----BEGIN PRIVATE KEY-----'))
    throw new ConfigError([{ path: field, message: `${path} is not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)` }]);
  return pem;
}

/** Throws ConfigError when the file's permissions let group/others in. */
export function checkSecretFileMode(path: string, field = 'secretsFile'): void {
  const st = statSync(path);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new ConfigError([
      {
        path: field,
        message: `${path} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}; secrets must not be accessible to group/others (chmod 600 ${path})`,
      },
    ]);
  }
}

export function loadSecrets(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Secrets {
  const out: Secrets = {};
  if (file !== undefined) {
    try {
      checkSecretFileMode(file);
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError([{ path: 'secretsFile', message: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError([{ path: 'secretsFile', message: `cannot read ${file} as JSON: ${(e as Error).message}` }]);
    }
    const r = secretsFileSchema.safeParse(raw);
    // never echo the values: only the paths of the bad fields
    if (!r.success) throw new ConfigError(r.error.issues.map((i) => ({ path: `secretsFile:${i.path.join('.')}`, message: i.message })));
    const b = r.data.binance;
    if (b) {
      const c: BinanceCredentials = {};
      if (b.apiKey !== undefined && b.apiSecret !== undefined) Object.assign(c, { apiKey: b.apiKey, apiSecret: b.apiSecret });
      if (b.ed25519ApiKey !== undefined && b.ed25519KeyFile !== undefined)
        Object.assign(c, { ed25519ApiKey: b.ed25519ApiKey, ed25519PrivateKeyPem: readPemKey(b.ed25519KeyFile, 'secretsFile:binance.ed25519KeyFile') });
      out.binance = c;
    }
    if (r.data.bybit) out.bybit = r.data.bybit;
    if (r.data.telegram) out.telegram = r.data.telegram;
  }
  for (const ex of ['binance', 'bybit'] as const) {
    const k = env[`TICKWIRE_${ex.toUpperCase()}_API_KEY`];
    const s = env[`TICKWIRE_${ex.toUpperCase()}_API_SECRET`];
    // an env pair replaces the file's HMAC pair; Binance keeps the file's Ed25519 pair unless the env gives one
    if (k && s) out[ex] = ex === 'binance' ? { ...out.binance, apiKey: k, apiSecret: s } : { apiKey: k, apiSecret: s };
    else if (k || s)
      throw new ConfigError([{ path: `env.TICKWIRE_${ex.toUpperCase()}_API_${k ? 'SECRET' : 'KEY'}`, message: 'API key and secret must be set together' }]);
  }
  const tg = env['TICKWIRE_TELEGRAM_BOT_TOKEN'];
  if (tg) {
    const t = telegramCreds.safeParse({ botToken: tg });
    if (!t.success) throw new ConfigError([{ path: 'env.TICKWIRE_TELEGRAM_BOT_TOKEN', message: 'must be a Bot API token (digits:characters)' }]);
    out.telegram = t.data;
  }
  const ek = env['TICKWIRE_BINANCE_ED25519_API_KEY'];
  const ef = env['TICKWIRE_BINANCE_ED25519_KEY_FILE'];
  if (ek && ef) out.binance = { ...out.binance, ed25519ApiKey: ek, ed25519PrivateKeyPem: readPemKey(ef, 'env.TICKWIRE_BINANCE_ED25519_KEY_FILE') };
  else if (ek || ef)
    throw new ConfigError([
      { path: `env.TICKWIRE_BINANCE_ED25519_${ek ? 'KEY_FILE' : 'API_KEY'}`, message: 'the Ed25519 API key and key file must be set together' },
    ]);
  return out;
}

/**
 * Fail before any socket opens: an exchange that trades on real hosts (a testnet/mainnet preset, or endpoints of an
 * external simulator) needs credentials, or the engine would run without an order gateway (or find out only from
 * the network). Only the embedded simulator (preset `sim`, no endpoints) brings its own keys.
 */
export function requireCredentials(cfg: Config, secrets: Secrets): void {
  const issues: ConfigIssue[] = [];
  for (const ex of ['binance', 'bybit'] as const) {
    const e = cfg.exchanges[ex];
    const used = cfg.instruments.some((i) => i.venue.startsWith(ex));
    const embedded = e.preset === 'sim' && Object.keys(e.endpoints).length === 0;
    if (!e.enabled || !used || embedded) continue;
    const c = secrets[ex] as BinanceCredentials | undefined;
    const ok =
      c !== undefined && ((c.apiKey !== undefined && c.apiSecret !== undefined) || (c.ed25519ApiKey !== undefined && c.ed25519PrivateKeyPem !== undefined));
    if (!ok) {
      const where = e.preset === 'sim' ? 'external simulator endpoints' : `preset ${e.preset}`;
      issues.push({
        path: 'secretsFile',
        message: `exchanges.${ex} (${where}) needs API credentials: secretsFile {"${ex}":{"apiKey","apiSecret"}} or TICKWIRE_${ex.toUpperCase()}_API_KEY + TICKWIRE_${ex.toUpperCase()}_API_SECRET`,
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
}
