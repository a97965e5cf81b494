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
