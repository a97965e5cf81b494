/** The names the deploy files (deploy/tokyo) use must reach the engine's config. */
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../src/config/load.js';

describe('deploy environment names', () => {
  it('TICKWIRE_KILL_FILE sets the kill switch file the stop script writes', () => {
    const cfg = loadConfig({ env: { TICKWIRE_KILL_FILE: '/run/tickwire-tokyo/KILL' } });
    expect(cfg.killSwitch.file).toBe('/run/tickwire-tokyo/KILL');
  });

  it('TICKWIRE_LOG_DESTINATIONS sets rotating destinations with levels per destination', () => {
    const cfg = loadConfig({
      env: { TICKWIRE_LOG_DESTINATIONS: '/var/log/tickwire/engine=info,daily,size=200m,count=14;/var/log/tickwire/alert=warn,daily,count=30;stdout=error' },
    });
    expect(cfg.log.destinations).toHaveLength(3);
    expect(cfg.log.destinations[0]).toMatchObject({ to: '/var/log/tickwire/engine', level: 'info', rotate: { frequency: 'daily', size: '200m', count: 14 } });
    expect(cfg.log.destinations[1]).toMatchObject({ to: '/var/log/tickwire/alert', level: 'warn' });
    expect(cfg.log.destinations[2]).toMatchObject({ to: 'stdout', level: 'error' });
  });

  it('a malformed TICKWIRE_LOG_DESTINATIONS is a config error naming the variable', () => {
    expect(() => loadConfig({ env: { TICKWIRE_LOG_DESTINATIONS: 'stdout=loud' } })).toThrow(ConfigError);
    try {
      loadConfig({ env: { TICKWIRE_LOG_DESTINATIONS: 'stdout=loud' } });
    } catch (e) {
      expect(String((e as Error).message)).toMatch(/TICKWIRE_LOG_DESTINATIONS/);
    }
  });
});
