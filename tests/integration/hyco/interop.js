// Microsoft's own Node SDK packages against `gwprobe relay` (reference A.9): hyco-ws as listener
// and sender (echo, binary, subprotocol), hyco-https as listener for plain HTTPS senders (small,
// 150 kB request over the request rendezvous, 200 kB response over the response rendezvous),
// relay pings answered by both listeners, and a bad token refused with 401.
// Usage: node interop.js --port=N --gateway-key=FILE --client-key=FILE (NODE_EXTRA_CA_CERTS set)
'use strict';
const fs = require('fs');
const https = require('https');
const WebSocket = require('hyco-ws');
const hycoHttps = require('hyco-https');

const args = {};
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)=(.*)$/.exec(a);
  if (m) args[m[1]] = m[2];
}
const port = Number(args.port);
const gatewayKey = fs.readFileSync(args['gateway-key'], 'utf8').trim();
const clientKey = fs.readFileSync(args['client-key'], 'utf8').trim();
const base = `wss://localhost:${port}/$hc/`;
let failures = 0;
let passes = 0;

function check(name, ok, detail) {
  if (ok) {
    passes++;
    console.log(`ok   ${name}`);
  } else {
    failures++;
    console.log(`FAIL ${name}${detail ? ': ' + detail : ''}`);
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function withTimeout(promise, ms, what) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms))]);
}

function getJson(path) {
  return new Promise((resolve, reject) => {
    https.get({ host: 'localhost', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

async function waitForListeners(path, count) {
  for (let i = 0; i < 100; i++) {
    const status = await getJson('/$status?format=json');
    const c = status.clusters.find((x) => x.path === path);
    if (c && c.online.length === count) return true;
    await sleep(50);
  }
  return false;
}

function request(method, path, body, token) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: 'localhost', port, path, method, agent: false,
      headers: { ServiceBusAuthorization: token, 'Content-Type': 'application/octet-stream',
                 'Content-Length': body ? Buffer.byteLength(body) : 0 } }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

function wsRoundTrip(client, payload) {
  return new Promise((resolve) => {
    client.once('message', (data, flags) => resolve({ data, binary: !!(flags && flags.binary) }));
    client.send(payload, { binary: Buffer.isBuffer(payload) });
  });
}

async function main() {
  // --- hyco-ws listener (WebSocket mode) ---
  const wsPath = 'hyco-ws';
  const wsListenUri = `${base}${wsPath}?sb-hc-action=listen&sb-hc-id=hyco-ws-listener`;
  const wsServer = WebSocket.createRelayedServer(
    { server: wsListenUri, token: () => WebSocket.createRelayToken(wsListenUri, 'gateway', gatewayKey) },
    (ws) => ws.on('message', (m, flags) => ws.send(m, { binary: !!(flags && flags.binary) })));
  wsServer.on('error', (e) => console.log(`hyco-ws listener error: ${e.message}`));
  check('hyco-ws listener is online at the relay', await waitForListeners(wsPath, 1));

  // --- hyco-ws sender ---
  const sendUri = `${base}${wsPath}?sb-hc-action=connect`;
  const sender = await withTimeout(new Promise((resolve, reject) => {
    const c = WebSocket.relayedConnect(sendUri, WebSocket.createRelayToken(sendUri, 'client', clientKey), () => resolve(c));
    c.on('error', reject);
  }), 10000, 'hyco-ws sender connect');
  const text = await withTimeout(wsRoundTrip(sender, 'hello through gwprobe relay'), 10000, 'text echo');
  check('hyco-ws sender -> relay -> hyco-ws listener text echo', text.data === 'hello through gwprobe relay', text.data);
  const blob = Buffer.alloc(100000, 7);
  const bin = await withTimeout(wsRoundTrip(sender, blob), 10000, 'binary echo');
  check('100 kB binary echo', Buffer.isBuffer(bin.data) && bin.data.equals(blob));
  sender.close();

  // Subprotocol: the listener picks the first offered; the relay must echo it to the sender.
  const proto = await withTimeout(new Promise((resolve, reject) => {
    const c = new WebSocket(sendUri, ['gwp.v1', 'gwp.v0'],
      { headers: { ServiceBusAuthorization: WebSocket.createRelayToken(sendUri, 'client', clientKey) } });
    c.on('open', () => { resolve(c.protocol); c.close(); });
    c.on('error', reject);
  }), 10000, 'subprotocol');
  check('subprotocol chosen by hyco-ws listener reaches the sender', proto === 'gwp.v1', String(proto));

  // A forged token: 401 before any listener hears of it.
  const refused = await withTimeout(new Promise((resolve) => {
    const c = WebSocket.relayedConnect(sendUri, WebSocket.createRelayToken(sendUri, 'client', 'not-the-key'), () => resolve('opened'));
    c.on('error', (e) => resolve(e.message));
  }), 10000, 'forged token');
  check('forged sender token is refused with 401', /401/.test(refused), refused);

  // --- hyco-https listener (HTTP mode) ---
  const httpPath = 'hyco-http';
  const httpListenUri = `${base}${httpPath}?sb-hc-action=listen`;
  const httpServer = hycoHttps.createRelayedServer(
    { server: httpListenUri, token: () => hycoHttps.createRelayToken(httpListenUri, 'gateway', gatewayKey) },
    (req, res) => {
      const chunks = [];
      req.on('data', (d) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url.endsWith('/big')) {
          res.setHeader('Content-Type', 'application/octet-stream');
          res.write(Buffer.alloc(100000, 1));
          res.write(Buffer.alloc(50000, 2));
          res.end(Buffer.alloc(50000, 3));
          return;
        }
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ method: req.method, url: req.url, length: body.length }));
      });
    });
  httpServer.listen((err) => { if (err) console.log(`hyco-https listen error: ${err}`); });
  check('hyco-https listener is online at the relay', await waitForListeners(httpPath, 1));

  const httpToken = hycoHttps.createRelayToken(`https://localhost:${port}/${httpPath}`, 'client', clientKey);
  const small = await withTimeout(request('POST', `/${httpPath}/query?x=1`, 'select 1', httpToken), 15000, 'small POST');
  const smallJson = small.status === 200 ? JSON.parse(small.body.toString()) : {};
  check('HTTP POST through hyco-https listener: 200 with JSON', small.status === 200 && smallJson.method === 'POST' &&
        smallJson.url === `/${httpPath}/query?x=1` && smallJson.length === 8, `${small.status} ${small.body}`);
  check('response carries Via from the relay', /gwprobe-relay/.test(small.headers.via || ''), small.headers.via);

  const big = Buffer.alloc(150000, 9);
  const up = await withTimeout(request('POST', `/${httpPath}/upload`, big, httpToken), 15000, '150 kB POST');
  const upJson = up.status === 200 ? JSON.parse(up.body.toString()) : {};
  check('150 kB request over the request rendezvous', up.status === 200 && upJson.length === 150000, `${up.status} ${up.body.slice(0, 80)}`);

  const down = await withTimeout(request('GET', `/${httpPath}/big`, null, httpToken), 15000, '200 kB response');
  check('200 kB response over the response rendezvous', down.status === 200 && down.body.length === 200000 &&
        down.body[0] === 1 && down.body[199999] === 3, `${down.status} ${down.body.length}`);

  const noToken = await withTimeout(request('GET', `/${httpPath}/x`, null, 'SharedAccessSignature sr=a&sig=b&se=1&skn=client'), 15000, 'bad token');
  check('HTTP sender with a forged token gets 401', noToken.status === 401, String(noToken.status));

  // --- relay pings (every 1 s in this run) are answered by both SDK listeners ---
  await sleep(3500);
  check('hyco-ws listener still online after several relay pings', await waitForListeners(wsPath, 1));
  check('hyco-https listener still online after several relay pings', await waitForListeners(httpPath, 1));
  const status = await getJson('/$status?format=json');
  check('no listener was evicted for missed pongs', !status.counters['listener_disconnects_total{reason="ping_timeout"}'],
        JSON.stringify(status.counters));

  console.log(`${passes} passed, ${failures} failed`);
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((e) => {
  console.log(`FAIL interop: ${e.message}`);
  console.log(`${passes} passed, ${failures + 1} failed`);
  process.exit(1);
});
