/**
 * Load the configuration: defaults <- JSON file <- environment overrides, then validate (zod). Every error names
 * the field path (and, for an environment override, the variable).
 *
 * Environment overrides: `TICKWIRE__<SECTION>__<FIELD>=value`, segments matched case-insensitively with
 * underscores ignored, e.g. `TICKWIRE__RISK__MAX_ORDER_QTY=0.5`, `TICKWIRE__LOOP__MODE=precise`,
 * `TICKWIRE__EXCHANGES__BYBIT__PRESET=testnet`. The value is parsed as JSON when it parses (numbers, booleans,
 * arrays), else taken as a string. Shortcut: `TICKWIRE_PRESET=sim|testnet|demo|mainnet` sets every exchange's preset.
 */
import { readFileSync } from 'node:fs';
import { configSchema, type Config } from './schema.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { parseLogDestinations } from '../util/log.js';

export interface LoadOptions {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** last-word overrides from the command line (already structured) */
  overrides?: Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const norm = (s: string): string => s.toLowerCase().replace(/_/g, '');

function deepMerge(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Obj, v) : v;
  return out;
}

function parseEnvValue(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** Apply TICKWIRE__A__B overrides onto `raw`, resolving segment names against the fully defaulted shape. */
function applyEnv(raw: Obj, env: NodeJS.ProcessEnv, issues: ConfigIssue[]): Obj {
  const shape = configSchema.parse({}) as unknown as Obj;
  let out = raw;
  const preset = env['TICKWIRE_PRESET'];
  if (preset !== undefined) out = deepMerge(out, { exchanges: { binance: { preset }, bybit: { preset } } });
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('TICKWIRE__') || value === undefined) continue;
    const segs = name.slice('TICKWIRE__'.length).split('__');
    const keys: string[] = [];
    let guide: unknown = shape;
    let ok = true;
    for (const seg of segs) {
      const known = isObj(guide) ? Object.keys(guide) : [];
      // optional fields are absent from the defaulted shape: fall back to the schema's own keys at top level
      const candidates = known.length > 0 ? known : [];
      const hit =
        candidates.find((k) => norm(k) === norm(seg)) ??
        (keys.length === 0 ? Object.keys(configSchema.shape).find((k) => norm(k) === norm(seg)) : undefined) ??
        fieldOf(keys, seg);
      if (hit === undefined) {
        issues.push({ path: `env.${name}`, message: `no config field '${seg.toLowerCase()}' under '${keys.join('.') || '(root)'}'` });
        ok = false;
        break;
      }
      keys.push(hit);
      guide = isObj(guide) ? guide[hit] : undefined;
    }
    if (!ok) continue;
    let patch: unknown = parseEnvValue(value);
    for (let i = keys.length - 1; i >= 0; i--) patch = { [keys[i] as string]: patch };
    out = deepMerge(out, patch as Obj);
  }
  return out;
}

/** Optional fields (no default) by parent path, so env can set them too. */
const OPTIONAL_FIELDS: Record<string, string[]> = {
  killSwitch: ['file'],
  watchdog: ['secretsFile'],
  'exchanges.binance.endpoints': ['spotRest', 'spotWs', 'spotWsApi', 'futuresRest', 'futuresWs', 'futuresWsApi', 'privateWs'],
  'exchanges.bybit.endpoints': ['spotRest', 'spotWs', 'spotWsApi', 'futuresRest', 'futuresWs', 'futuresWsApi', 'privateWs'],
  '': ['secretsFile'],
};
function fieldOf(parent: string[], seg: string): string | undefined {
  return OPTIONAL_FIELDS[parent.join('.')]?.find((k) => norm(k) === norm(seg));
}

/** Validate an already-merged raw object. */
export function parseConfig(raw: unknown, extraIssues: ConfigIssue[] = []): Config {
  const r = configSchema.safeParse(raw);
  const issues = [...extraIssues];
  if (!r.success) {
    for (const i of r.error.issues) {
      const path = i.path.map(String).join('.');
      const keys = (i as { keys?: string[] }).keys;
      if (i.code === 'unrecognized_keys' && keys) for (const k of keys) issues.push({ path: path ? `${path}.${k}` : k, message: 'unknown field' });
      else issues.push({ path, message: i.message });
    }
  }
  if (issues.length > 0 || !r.success) throw new ConfigError(issues);
  return r.data;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  let raw: Obj = {};
  const file = opts.file ?? env['TICKWIRE_CONFIG'];
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError([{ path: '(file)', message: `cannot read config file ${file}: ${(e as Error).message}` }]);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new ConfigError([{ path: '(file)', message: `${file} is not valid JSON: ${(e as Error).message}` }]);
    }
    if (!isObj(parsed)) throw new ConfigError([{ path: '(root)', message: `${file} must hold a JSON object` }]);
    raw = parsed;
  }
  const issues: ConfigIssue[] = [];
  raw = applyEnv(raw, env, issues);
  raw = applyDeployEnv(raw, env, issues);
  if (opts.overrides) raw = deepMerge(raw, opts.overrides);
  return parseConfig(raw, issues);
}

/**
 * The two settings the deploy files (deploy/tokyo: env file, stop script) share with the engine by plain names:
 * `TICKWIRE_KILL_FILE` (the kill switch's file, also written by tickwire-stop.sh) and `TICKWIRE_LOG_DESTINATIONS`
 * (`TARGET=LEVEL[,daily,size=200m,count=14];...`, see parseLogDestinations). They win over the file, like
 * `TICKWIRE__...` overrides.
 */
function applyDeployEnv(raw: Obj, env: NodeJS.ProcessEnv, issues: ConfigIssue[]): Obj {
  let out = raw;
  const killFile = env['TICKWIRE_KILL_FILE'];
  if (killFile) out = deepMerge(out, { killSwitch: { file: killFile } });
  const spec = env['TICKWIRE_LOG_DESTINATIONS'];
  if (spec) {
    try {
      out = deepMerge(out, { log: { destinations: parseLogDestinations(spec) as unknown as Obj[] } } as Obj);
    } catch (e) {
      issues.push({ path: 'env.TICKWIRE_LOG_DESTINATIONS', message: (e as Error).message });
    }
  }
  return out;
}

export { ConfigError };
