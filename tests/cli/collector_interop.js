// collector_interop.js PORT CA CERT KEY MODE N [DEVICE_UID]: N records from
// @fluent-org/logger (a Forward client nobody here wrote) over TLS with a
// client certificate, acks required. Prints "acked N" once every emit's
// promise resolved, which the library does only on the server's ack.
// With DEVICE_UID, each record claims that device.uid.
"use strict";
const fs = require("fs");
const { FluentClient } = require("@fluent-org/logger");

const [port, ca, cert, key, mode, n, uid] = process.argv.slice(2);
const client = new FluentClient("node.interop", {
  eventMode: mode,
  milliseconds: true,
  ack: { ackTimeout: 15000 },
  socket: {
    host: "127.0.0.1",
    port: Number(port),
    timeout: 15000,
    disableReconnect: false,
    reconnect: { maxDelay: 500 },
    tls: {
      ca: fs.readFileSync(ca),
      cert: fs.readFileSync(cert),
      key: fs.readFileSync(key),
      minVersion: "TLSv1.3",
    },
  },
});

async function main() {
  const sent = [];
  for (let i = 0; i < Number(n); i++) {
    const rec = { message: `hello from node ${mode} ${i}`, seq: i, mode };
    if (uid) rec.device = { uid };
    sent.push(client.emit("app", rec));
  }
  await Promise.all(sent);
  console.log(`acked ${n}`);
  await client.shutdown();
}

const guard = setTimeout(() => {
  console.log("timeout: no acks");
  process.exit(3);
}, 30000);
main().then(() => { clearTimeout(guard); process.exit(0); })
  .catch((e) => { clearTimeout(guard); console.log(`refused: ${e && e.message}`); process.exit(2); });
