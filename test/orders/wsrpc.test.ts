/**
 * WsRpc against a tiny local WebSocket server: correlation by id, responses for requests never sent, malformed
 * frames, timeouts, and in-flight requests on a disconnect (rejected as "sent": outcome unknown).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { WsDisconnected, WsRpc, WsTimeout } from '../../src/net/wsrpc.js';

let server: WebSocketServer | undefined;
let rpc: WsRpc | undefined;
afterEach(async () => {
  await rpc?.close();
  rpc = undefined;
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  for (const c of server?.clients ?? []) c.terminate();
  server = undefined;
});

async function setup(onMsg: (ws: WebSocket, msg: { id: string; method: string }) => void, onOpen?: WsRpc['opts']['onOpen']) {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => server!.once('listening', () => r()));
  server.on('connection', (ws) => ws.on('message', (d) => onMsg(ws, JSON.parse(String(d)) as { id: string; method: string })));
  const port = (server.address() as { port: number }).port;
  const unsolicited: unknown[] = [];
  rpc = new WsRpc({
    name: 't',
    url: `ws://127.0.0.1:${port}`,
    idKey: 'id',
    timeoutMs: 300,
    onUnsolicited: (m) => unsolicited.push(m),
    ...(onOpen ? { onOpen } : {}),
  });
  await rpc.start(3000);
  return unsolicited;
}

describe('WsRpc', () => {
  it('correlates out-of-order responses; ignores unknown ids and malformed frames', async () => {
    const held: Array<[WebSocket, string]> = [];
    const unsolicited = await setup((ws, m) => {
      held.push([ws, m.id]);
      if (held.length === 2) {
        ws.send('{"id":"never-sent","status":200}');
        ws.send('{not json');
        for (const [w, id] of held.reverse()) w.send(JSON.stringify({ id, status: 200, result: { echo: id } }));
      }
    });
    const a = rpc!.nextId();
    const b = rpc!.nextId();
    const [ra, rb] = await Promise.all([rpc!.call(a, JSON.stringify({ id: a, method: 'x' })), rpc!.call(b, JSON.stringify({ id: b, method: 'x' }))]);
    expect(ra['result']).toEqual({ echo: a });
    expect(rb['result']).toEqual({ echo: b });
    expect(unsolicited).toEqual([{ id: 'never-sent', status: 200 }]);
    expect(rpc!.counts.malformed).toBe(1);
  });

  it('times out a request with no answer', async () => {
    await setup(() => undefined);
    const id = rpc!.nextId();
    await expect(rpc!.call(id, JSON.stringify({ id }))).rejects.toBeInstanceOf(WsTimeout);
  });

  it('rejects in-flight requests on a disconnect as sent (unknown outcome), then reconnects and re-runs onOpen', async () => {
    let opens = 0;
    await setup(
      (ws) => ws.terminate(),
      async () => {
        opens++;
      },
    );
    const id = rpc!.nextId();
    const err = await rpc!.call(id, JSON.stringify({ id })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WsDisconnected);
    expect((err as WsDisconnected).sent).toBe(true);
    const end = Date.now() + 3000;
    while (!(rpc!.ready && opens >= 2) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(opens).toBeGreaterThanOrEqual(2);
    expect(rpc!.ready).toBe(true);
  });
});

describe('WsRpc rotation (make before break)', () => {
  /** A server that needs a logon per socket; `slow` requests are held until released; numbered sockets. */
  async function sessionServer(refuseLogonOn: Set<number> = new Set()) {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => server!.once('listening', () => r()));
    const st = { opened: 0, closed: [] as number[], seenOn: new Map<string, number>(), held: [] as Array<() => void> };
    server.on('connection', (ws) => {
      const n = ++st.opened;
      let logged = false;
      ws.on('close', () => st.closed.push(n));
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as { id: string; method: string };
        st.seenOn.set(m.id, n);
        if (m.method === 'logon') {
          logged = !refuseLogonOn.has(n);
          ws.send(JSON.stringify({ id: m.id, status: logged ? 200 : 401 }));
          return;
        }
        const answer = () => ws.send(JSON.stringify({ id: m.id, status: logged ? 200 : 401, result: { conn: n } }));
        if (m.method === 'slow') st.held.push(answer);
        else answer();
      });
    });
    return { port: (server.address() as { port: number }).port, st };
  }

  const logon: NonNullable<WsRpc['opts']['onOpen']> = async (r, _reconnect, via) => {
    const id = r.nextId();
    const res = await r.callRaw(id, JSON.stringify({ id, method: 'logon' }), undefined, via);
    if (res['status'] !== 200) throw new Error('logon refused');
  };
  const call = (method: string) => {
    const id = rpc!.nextId();
    return rpc!.call(id, JSON.stringify({ id, method }));
  };

  it('the replacement logs on over its own socket, then takes new requests; an answer in flight arrives on the old one, which closes after it', async () => {
    const { port, st } = await sessionServer();
    rpc = new WsRpc({ name: 'rot1', url: `ws://127.0.0.1:${port}`, idKey: 'id', timeoutMs: 3000, onOpen: logon });
    await rpc.start(3000);
    const inFlight = call('slow'); // held on socket 1
    await new Promise((r) => setTimeout(r, 20));
    rpc.rotate();
    expect(rpc.ready).toBe(true); // the live session keeps serving while the replacement logs on
    const end = Date.now() + 3000;
    while (rpc.ws.rotations < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(rpc.ws.rotations).toBe(1);
    // new requests go to socket 2, which is logged on (401 otherwise)
    const after = await call('x');
    expect(after).toMatchObject({ status: 200, result: { conn: 2 } });
    // socket 1 waits for its answer
    expect(st.closed).toEqual([]);
    expect(rpc.ws.drainingCount).toBe(1);
    for (const a of st.held.splice(0)) a();
    expect(await inFlight).toMatchObject({ status: 200, result: { conn: 1 } });
    const end2 = Date.now() + 3000;
    while (st.closed.length === 0 && Date.now() < end2) await new Promise((r) => setTimeout(r, 5));
    expect(st.closed).toEqual([1]);
    expect(rpc.ws.drainingCount).toBe(0);
    expect([rpc.counts.disconnects, rpc.ws.stats.disconnects, rpc.ws.reconnects]).toEqual([0, 0, 0]);
    expect(rpc.ready).toBe(true);
  });

  it('a replacement whose logon is refused is dropped and tried again; the live socket serves meanwhile', async () => {
    const { port, st } = await sessionServer(new Set([2]));
    rpc = new WsRpc({ name: 'rot2', url: `ws://127.0.0.1:${port}`, idKey: 'id', timeoutMs: 3000, onOpen: logon, maxLifetimeMs: 300 });
    await rpc.start(3000);
    const end = Date.now() + 5000;
    const answeredOn = new Set<number>();
    while (rpc.ws.rotations < 1 && Date.now() < end) {
      const r = await call('x');
      expect(r['status']).toBe(200);
      answeredOn.add((r['result'] as { conn: number }).conn);
      await new Promise((res) => setTimeout(res, 10));
    }
    expect(rpc.ws.stats.rotationFailures).toBe(1); // socket 2
    expect(rpc.ws.rotations).toBe(1); // socket 3
    expect(await call('x')).toMatchObject({ status: 200, result: { conn: 3 } });
    expect(answeredOn.has(2)).toBe(false);
    expect(st.opened).toBe(3);
    expect(rpc.counts.disconnects).toBe(0);
  });
});
