/**
 * Where a venue lives and how to log in: the one endpoints type of the engine side (the wiring, the registry's
 * drivers, the tests), and its two sources: the config (presets, endpoints, secrets: testnet, mainnet, an external
 * simulator) and an embedded simulator. The fields are named as in the simulator's printed `SimVenueEndpoints`
 * (src/sim/core/types.ts, which stands beside the layers and keeps its own type), so a simulator's venue is a
 * `VenueEndpoints` as it is.
 */
import type { VenueId } from '../model/types.js';
import type { Config } from '../config/schema.js';
import type { BinanceCredentials, Secrets } from '../config/secrets.js';
import { PRESETS } from '../config/presets.js';
import type { SimEndpointsJson } from '../sim/index.js';
import type { SimVenueEndpoints } from '../sim/core/types.js';

/** One venue's endpoints and credentials. */
export interface VenueEndpoints {
  restBaseUrl: string;
  /** market stream base (Binance: host; Bybit: host without /v5/public/...) */
  wsStreamBaseUrl: string;
  /** Binance WS API (.../ws-api/v3, .../ws-fapi/v1) or Bybit trade WS (.../v5/trade) */
  wsApiUrl?: string;
  /** Bybit private stream (.../v5/private) */
  wsPrivateUrl?: string;
  apiKey?: string;
  apiSecret?: string;
  ed25519ApiKey?: string;
  ed25519PrivateKeyPem?: string;
}

/** Endpoints per venue id (Bybit spot and linear: the same host and keys, two entries). */
export type VenueEndpointsMap = Partial<Record<VenueId, VenueEndpoints>>;

function stripBybitPath(u: string): string {
  return u.replace(/\/v5\/public\/\w+\/?$/, '');
}

/** Venue endpoints from the presets / config endpoints / secrets (testnet, mainnet, external simulator). */
export function accessFromConfig(cfg: Config, secrets: Secrets): VenueEndpointsMap {
  const out: VenueEndpointsMap = {};
  for (const ex of ['binance', 'bybit'] as const) {
    const e = cfg.exchanges[ex];
    if (!e.enabled) continue;
    const base = e.preset === 'sim' ? undefined : PRESETS[ex][e.preset];
    const ep = { ...(base ?? {}), ...e.endpoints };
    const cred: BinanceCredentials | undefined = secrets[ex];
    // HMAC pair and/or (Binance) the Ed25519 pair: with it the WS API session logs on and orders go unsigned
    const creds: Pick<VenueEndpoints, 'apiKey' | 'apiSecret' | 'ed25519ApiKey' | 'ed25519PrivateKeyPem'> = {
      ...(cred?.apiKey !== undefined && cred.apiSecret !== undefined ? { apiKey: cred.apiKey, apiSecret: cred.apiSecret } : {}),
      ...(cred?.ed25519ApiKey !== undefined && cred.ed25519PrivateKeyPem !== undefined
        ? { ed25519ApiKey: cred.ed25519ApiKey, ed25519PrivateKeyPem: cred.ed25519PrivateKeyPem }
        : {}),
    };
    const spot = ex === 'binance' ? 'binanceSpot' : 'bybitSpot';
    const fut = ex === 'binance' ? 'binanceUsdm' : 'bybitLinear';
    const fix = ex === 'bybit' ? stripBybitPath : (u: string) => u;
    if (ep.spotRest && ep.spotWs)
      out[spot] = {
        restBaseUrl: ep.spotRest,
        wsStreamBaseUrl: fix(ep.spotWs),
        ...(ep.spotWsApi ? { wsApiUrl: ep.spotWsApi } : {}),
        ...(ep.privateWs ? { wsPrivateUrl: ep.privateWs } : {}),
        ...creds,
      };
    if (ep.futuresRest && ep.futuresWs)
      out[fut] = {
        restBaseUrl: ep.futuresRest,
        wsStreamBaseUrl: fix(ep.futuresWs),
        ...(ep.futuresWsApi ? { wsApiUrl: ep.futuresWsApi } : {}),
        ...(ep.privateWs ? { wsPrivateUrl: ep.privateWs } : {}),
        ...creds,
      };
  }
  return out;
}

/** One simulator venue's endpoints (its public key is the simulator's business, not the engine's). */
function ofSim(x: SimVenueEndpoints): VenueEndpoints {
  return {
    restBaseUrl: x.restBaseUrl,
    wsStreamBaseUrl: x.wsStreamBaseUrl,
    wsApiUrl: x.wsApiUrl,
    ...(x.wsPrivateUrl ? { wsPrivateUrl: x.wsPrivateUrl } : {}),
    apiKey: x.apiKey,
    apiSecret: x.apiSecret,
    ...(x.ed25519ApiKey ? { ed25519ApiKey: x.ed25519ApiKey } : {}),
    ...(x.ed25519PrivateKeyPem ? { ed25519PrivateKeyPem: x.ed25519PrivateKeyPem } : {}),
  };
}

/** Venue endpoints of an embedded simulator (in process, or a child process's endpoints line). */
export function accessFromSim(sim: { endpoints: Pick<SimEndpointsJson, 'binanceSpot' | 'binanceUsdm' | 'bybit'> }): VenueEndpointsMap {
  const out: VenueEndpointsMap = {};
  const e = sim.endpoints;
  if (e.binanceSpot) out.binanceSpot = ofSim(e.binanceSpot);
  if (e.binanceUsdm) out.binanceUsdm = ofSim(e.binanceUsdm);
  if (e.bybit) {
    out.bybitSpot = ofSim(e.bybit);
    out.bybitLinear = ofSim(e.bybit);
  }
  return out;
}
