/**
 * Endpoint presets per exchange. `sim` endpoints are filled in at run time from the embedded simulator
 * (`startSim().endpoints`); testnet and mainnet URLs are from ../shared/exchange/{binance,bybit}.md.
 */
import type { PresetName } from './schema.js';

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

export type ExchangeName = 'binance' | 'bybit';

export const PRESETS: Record<ExchangeName, Record<Exclude<PresetName, 'sim'>, ExchangeEndpoints>> = {
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
  },
};

export function exchangeOfVenue(v: string): ExchangeName {
  return v.startsWith('binance') ? 'binance' : 'bybit';
}
