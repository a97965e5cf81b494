/**
 * A metric that a layer below the control plane exports (adapters, gateways, the degradation reporter): rendered in
 * Prometheus text by src/app/metrics.ts. Here so that those layers need nothing from the app.
 */
export interface ExtraMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: Array<{ labels?: Record<string, string>; value: number }>;
}
