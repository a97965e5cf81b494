/**
 * What of deploy/ can run here: shellcheck on every script, systemd-analyze verify on the units (in a fake root with
 * the machine's standard units), the launcher's command line and backoff (dry run), the stop script's kill-file
 * fallback against a real child process, logrotate on a real file, terraform fmt and the cloud-init template
 * rendered by terraform and checked against cloud-init's schema. A tool that is not installed skips its test; a tool
 * that is installed and finds a problem fails it. `terraform validate` needs the AWS provider from
 * registry.terraform.io, which this machine cannot reach: not run here (README says so).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
const DEPLOY = join(REPO, 'deploy/tokyo');
const tmp = mkdtempSync(join(tmpdir(), 'tickwire-deploy-'));
const children: Array<{ kill: () => void }> = [];
afterAll(() => {
  for (const c of children) c.kill();
  rmSync(tmp, { recursive: true, force: true });
});

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
}

function sh(cmd: string, args: string[], opts: { env?: Record<string, string>; cwd?: string; input?: string } = {}) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: 20_000,
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...opts.env },
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const scripts = [
  ...readdirSync(join(REPO, 'scripts'))
    .filter((f) => f.endsWith('.sh'))
    .map((f) => join(REPO, 'scripts', f)),
  ...readdirSync(DEPLOY)
    .filter((f) => f.endsWith('.sh'))
    .map((f) => join(DEPLOY, f)),
];

describe('deploy/tokyo', () => {
  it.skipIf(!has('shellcheck'))('every script is ShellCheck-clean', () => {
    expect(scripts.length).toBeGreaterThanOrEqual(3);
    const r = sh('shellcheck', ['--severity=style', ...scripts]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!has('systemd-analyze'))('systemd-analyze verify accepts the units for both sites', () => {
    const root = join(tmp, 'sysroot');
    const lib = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => existsSync(join(d, 'sysinit.target')));
    expect(lib, 'standard units of this machine').toBeDefined();
    cpSync(lib as string, join(root, 'usr/lib/systemd/system'), { recursive: true, dereference: false });
    mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
    for (const u of ['tickwire@.service', 'tickwire-tuning.service']) cpSync(join(DEPLOY, u), join(root, 'etc/systemd/system', u));
    // the paths the units execute, as installed by the runbook
    cpSync(DEPLOY, join(root, 'opt/tickwire/deploy/tokyo'), { recursive: true });
    cpSync(join(REPO, 'scripts'), join(root, 'opt/tickwire/scripts'), { recursive: true });
    const r = sh('systemd-analyze', ['verify', `--root=${root}`, 'tickwire@tokyo.service', 'tickwire@singapore.service', 'tickwire-tuning.service']);
    // warnings (an unknown key on this systemd, a missing executable) do not change the exit status: require silence
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
    const unit = readFileSync(join(DEPLOY, 'tickwire@.service'), 'utf8');
    for (const key of [
      'CPUAffinity=',
      'Nice=',
      'MemoryMax=',
      'LimitNOFILE=',
      'Restart=on-failure',
      'RestartSec=',
      'ExecStop=',
      'EnvironmentFile=/etc/tickwire/%i.env',
    ]) {
      expect(unit).toMatch(new RegExp(`^${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
    }
  });

  it('the launcher pins with taskset, sets the Node flags and backs off on quick restarts', () => {
    const state = join(tmp, 'launch-state');
    const env = { TICKWIRE_DRY_RUN: '1', TICKWIRE_CORES: '1', STATE_DIRECTORY: state, TICKWIRE_SITE: 'singapore' };
    const first = sh('bash', [join(DEPLOY, 'tickwire-launch.sh')], { env });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^UV_THREADPOOL_SIZE=2 taskset -c 1 node /);
    for (const f of [
      '--max-semi-space-size=64',
      '--min-semi-space-size=64',
      '--single-threaded-gc',
      '--max-old-space-size=2048',
      '--unhandled-rejections=strict',
    ]) {
      expect(first.stdout).toContain(f);
    }
    expect(first.stdout).toMatch(/\/opt\/tickwire\/bin\/tickwire\.js run --config \/etc\/tickwire\/singapore\.json/);
    expect(first.stderr).not.toMatch(/backing off/);
    const second = sh('bash', [join(DEPLOY, 'tickwire-launch.sh')], { env });
    expect(second.stderr).toMatch(/backing off 5 s/);
    const third = sh('bash', [join(DEPLOY, 'tickwire-launch.sh')], { env });
    expect(third.stderr).toMatch(/backing off 10 s/);
    const missing = sh('bash', [join(DEPLOY, 'tickwire-launch.sh')], { env: { ...env, TICKWIRE_CORES: '' } });
    expect(missing.status).toBe(78);
    expect(missing.stderr).toMatch(/TICKWIRE_CORES is not set/);
  });

  it('the stop script reports a crashed engine and falls back to the kill file when the control plane fails', async () => {
    const stop = join(DEPLOY, 'tickwire-stop.sh');
    const gone = sh('bash', [stop, '']);
    expect(gone.status).toBe(0);
    expect(gone.stderr).toMatch(/engine not running/);

    // An "engine" that halts when the kill file appears, and a CLI whose control plane answers nothing (exit 3).
    const home = join(tmp, 'home');
    mkdirSync(join(home, 'bin'), { recursive: true });
    writeFileSync(join(home, 'bin/tickwire.js'), "process.stderr.write('control plane unreachable\\n'); process.exit(3);\n");
    const killFile = join(tmp, 'KILL');
    const engine = spawn(
      process.execPath,
      [
        '-e',
        `const fs=require('fs');const t=setInterval(()=>{if(fs.existsSync(${JSON.stringify(killFile)})){clearInterval(t);process.exit(0)}},20);setTimeout(()=>process.exit(9),15000)`,
      ],
      { stdio: 'ignore' },
    );
    children.push({ kill: () => engine.kill('SIGKILL') });
    const exited = new Promise<number | null>((res) => engine.once('exit', (code) => res(code)));
    const r = await new Promise<{ code: number | null; err: string }>((res) => {
      const p = spawn('bash', [stop, String(engine.pid)], {
        env: {
          ...process.env,
          TICKWIRE_HOME: home,
          TICKWIRE_CONTROL_TOKEN: 'test-token-not-a-secret',
          TICKWIRE_KILL_FILE: killFile,
          TICKWIRE_KILL_TIMEOUT_S: '5',
        },
      });
      let err = '';
      p.stderr.on('data', (b: Buffer) => (err += b.toString()));
      p.once('exit', (code) => res({ code, err }));
    });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/control plane kill failed/);
    expect(r.err).toMatch(/engine exited after the kill file/);
    expect(await exited).toBe(0);
  });

  it('provisions Debian 12 + Node 22, a pair where everything the engine loads, loads (no native uWS needed)', () => {
    const tf = join(DEPLOY, 'terraform');
    expect(readFileSync(join(tf, 'main.tf'), 'utf8')).toMatch(/values = \["debian-12-amd64-\*"\]/);
    expect(readFileSync(join(tf, 'variables.tf'), 'utf8')).toMatch(/variable "node_major" \{[^}]*default\s*=\s*22\s*\}/);
    const env = readFileSync(join(DEPLOY, 'tickwire.env.example'), 'utf8');
    expect(env).not.toMatch(/^TICKWIRE_UWS=/m);
    // the engine's control plane is node:http: nothing of the engine asks for uWS
    expect(readFileSync(join(REPO, 'src/app/control.ts'), 'utf8')).not.toMatch(/util\/uws/);
    expect(readFileSync(join(DEPLOY, 'README.md'), 'utf8')).toMatch(/## Image and Node\n\n\*\*Debian 12 \(glibc 2\.36, systemd 252\) with Node 22/);
    // The simulator's server (compat where no native build loads) and ws's native helper load on the Node running this
    // test (CI's Node 22 row on a glibc < 2.38 host is the deployed pair itself).
    const uwsJs = join(REPO, 'dist/src/util/uws.js');
    if (!existsSync(uwsJs)) return;
    const probe = `import(${JSON.stringify(pathToFileURL(uwsJs).href)}).then((m) => {
      const r = m.loadUws(); const app = r.uws.App();
      const bu = (() => { try { require('bufferutil'); return 'bufferutil'; } catch (e) { return 'no bufferutil: ' + e.message; } })();
      console.log(JSON.stringify({ source: r.source, app: typeof app.get, bu }));
    })`;
    const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', cwd: REPO, env: { ...process.env, TICKWIRE_UWS: 'compat' }, timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ source: 'compat (node:http + ws)', app: 'function', bu: 'bufferutil' });
  });

  it('the environment file example holds no secrets', () => {
    const text = readFileSync(join(DEPLOY, 'tickwire.env.example'), 'utf8');
    for (const key of [
      'TICKWIRE_CONTROL_TOKEN',
      'TICKWIRE_BINANCE_API_KEY',
      'TICKWIRE_BINANCE_API_SECRET',
      'TICKWIRE_BYBIT_API_KEY',
      'TICKWIRE_BYBIT_API_SECRET',
    ]) {
      expect(text).toMatch(new RegExp(`^${key}=$`, 'm'));
    }
    expect(text).toMatch(/0600/);
  });

  it.skipIf(!has('logrotate'))('logrotate accepts the config and rotates a log', () => {
    const dir = join(tmp, 'logs', 'tokyo');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'debug.log'), 'line 1\nline 2\n');
    const me = userInfo();
    const group = sh('id', ['-gn']).stdout.trim();
    const conf = readFileSync(join(DEPLOY, 'logrotate-tickwire'), 'utf8')
      .replace(/^\/var\/log\/tickwire\//m, `${join(tmp, 'logs')}/`)
      .replace('su tickwire tickwire', `su ${me.username} ${group}`);
    const confFile = join(tmp, 'logrotate.conf');
    writeFileSync(confFile, conf);
    chmodSync(confFile, 0o644);
    const r = sh('logrotate', ['-v', '-f', '-s', join(tmp, 'logrotate.state'), confFile]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'debug.log.1'), 'utf8')).toBe('line 1\nline 2\n');
    expect(readFileSync(join(dir, 'debug.log'), 'utf8')).toBe(''); // copytruncate: same file, emptied
  });

  it.skipIf(!has('terraform'))('terraform files are formatted, and the cloud-init template renders for both sites', () => {
    const tf = join(DEPLOY, 'terraform');
    const env = { TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
    const fmt = sh('terraform', ['fmt', '-check', '-recursive', tf], { env });
    expect(fmt.stdout, 'files terraform fmt would change').toBe('');
    expect(fmt.status).toBe(0);
    for (const site of ['tokyo', 'singapore']) {
      const vars = readFileSync(join(tf, `${site}.tfvars`), 'utf8');
      const v = (k: string): string => new RegExp(`^${k}\\s*=\\s*"([^"]*)"`, 'm').exec(vars)?.[1] ?? '';
      expect(v('site')).toBe(site);
      const expr = `templatefile("${join(tf, 'cloud-init.yaml.tftpl')}", { site = "${site}", trading_cores = "${v('trading_cores')}", isolate_cores = "${v('isolate_cores')}", housekeeping_cores = "${v('housekeeping_cores')}", apply_kernel_args = true, node_major = 22 })`;
      const work = join(tmp, `tf-${site}`);
      mkdirSync(work, { recursive: true });
      const out = sh('terraform', ['console'], { env, cwd: work, input: `${expr}\n` });
      expect(out.status, out.stderr).toBe(0);
      const rendered = out.stdout.replace(/^<<EOT\n/, '').replace(/\nEOT\s*$/, '\n');
      expect(rendered.startsWith('#cloud-config\n')).toBe(true);
      expect(rendered).toContain(`nohz_full=${v('isolate_cores')}`);
      expect(rendered).toContain(`TICKWIRE_CORES=${v('trading_cores')}`);
      const file = join(work, 'user-data.yaml');
      writeFileSync(file, rendered);
      if (has('cloud-init')) {
        const schema = sh('cloud-init', ['schema', '--config-file', file]);
        expect(schema.stdout + schema.stderr).toMatch(/Valid cloud-config/);
        expect(schema.status).toBe(0);
      }
    }
  });
});
