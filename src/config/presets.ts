/**
 * Endpoint presets per exchange. `sim` endpoints are filled in at run time from the embedded simulator
 * (`startSim().endpoints`); testnet, demo and mainnet URLs are from ../shared/exchange/{binance,bybit}.md and Binance's
 * demo-mode/general-info.md.
 *
 * - `testnet`: the venues' test networks (own keys, own books, balances reset from time to time).
 * - `demo`: demo trading (Binance Demo Mode, Bybit Demo Trading): keys made in the demo UI, books close to mainnet's.
 *   Binance USD-M has one test host for both (demo-fapi.binance.com). Bybit demo serves REST and the private stream
 *   only: its public streams are mainnet's and it has NO trade WebSocket, so order entry goes over REST (the WS API
 *   fields are empty, and `transport: "wsapi"` on it is refused at config load, see `NO_WS_API`).
 * - `mainnet`: real money.
 */
/** The presets with real hosts (schema.ts's `presetName` adds `sim`); kept here so schema.ts can import this file. */
export type HostPreset = 'testnet' | 'demo' | 'mainnet';

export interface ExchangeEndpoints {
  spotRest: string;
  spotWs: string;
  spotWsApi: string;
  futuresRest: string;
  futuresWs: string;
  futuresWsApi: string;
  /** Bybit private stream; Binance uses listenKey streams on the market hosts */
  privateWs: string;
}

/** Presets whose venue has no WebSocket order entry: orders go over signed REST (the WS API fields are ''). */
export const NO_WS_API: ReadonlyArray<{ exchange: ExchangeName; preset: HostPreset; why: string }> = [
  { exchange: 'bybit', preset: 'demo', why: 'Bybit demo trading has no trade WebSocket (/v5/trade): order entry goes over REST' },
];

export type ExchangeName = 'binance' | 'bybit';

export const PRESETS: Record<ExchangeName, Record<HostPreset, ExchangeEndpoints>> = {
  binance: {
    mainnet: {
      spotRest: 'https://api.binance.com',
      spotWs: 'wss://stream.binance.com:9443',
      spotWsApi: 'wss://ws-api.binance.com:443/ws-api/v3',
      futuresRest: 'https://fapi.binance.com',
      // book data on /public, other market streams on /market, user data on /private (2026-04 split)
      futuresWs: 'wss://fstream.binance.com',
      futuresWsApi: 'wss://ws-fapi.binance.com/ws-fapi/v1',
      privateWs: 'wss://fstream.binance.com/private',
    },
    testnet: {
      spotRest: 'https://testnet.binance.vision',
      spotWs: 'wss://stream.testnet.binance.vision',
      spotWsApi: 'wss://ws-api.testnet.binance.vision/ws-api/v3',
      futuresRest: 'https://demo-fapi.binance.com',
      futuresWs: 'wss://fstream.binancefuture.com',
      futuresWsApi: 'wss://testnet.binancefuture.com/ws-fapi/v1',
      privateWs: 'wss://fstream.binancefuture.com/private',
    },
    // Binance Demo Mode: Spot on demo-*.binance.com; USD-M demo is the same host as its testnet
    demo: {
      spotRest: 'https://demo-api.binance.com',
      spotWs: 'wss://demo-stream.binance.com:9443',
      spotWsApi: 'wss://demo-ws-api.binance.com/ws-api/v3',
      futuresRest: 'https://demo-fapi.binance.com',
      futuresWs: 'wss://fstream.binancefuture.com',
      futuresWsApi: 'wss://testnet.binancefuture.com/ws-fapi/v1',
      privateWs: 'wss://fstream.binancefuture.com/private',
    },
  },
  bybit: {
    mainnet: {
      spotRest: 'https://api.bybit.com',
      spotWs: 'wss://stream.bybit.com/v5/public/spot',
      spotWsApi: 'wss://stream.bybit.com/v5/trade',
      futuresRest: 'https://api.bybit.com',
      futuresWs: 'wss://stream.bybit.com/v5/public/linear',
      futuresWsApi: 'wss://stream.bybit.com/v5/trade',
      privateWs: 'wss://stream.bybit.com/v5/private',
    },
    testnet: {
      spotRest: 'https://api-testnet.bybit.com',
      spotWs: 'wss://stream-testnet.bybit.com/v5/public/spot',
      spotWsApi: 'wss://stream-testnet.bybit.com/v5/trade',
      futuresRest: 'https://api-testnet.bybit.com',
      futuresWs: 'wss://stream-testnet.bybit.com/v5/public/linear',
      futuresWsApi: 'wss://stream-testnet.bybit.com/v5/trade',
      privateWs: 'wss://stream-testnet.bybit.com/v5/private',
    },
    // Bybit Demo Trading: REST and the private stream on demo hosts, public streams are mainnet's, no trade WS
    demo: {
      spotRest: 'https://api-demo.bybit.com',
      spotWs: 'wss://stream.bybit.com/v5/public/spot',
      spotWsApi: '',
      futuresRest: 'https://api-demo.bybit.com',
      futuresWs: 'wss://stream.bybit.com/v5/public/linear',
      futuresWsApi: '',
      privateWs: 'wss://stream-demo.bybit.com/v5/private',
    },
  },
};

export function exchangeOfVenue(v: string): ExchangeName {
  return v.startsWith('binance') ? 'binance' : 'bybit';
}
