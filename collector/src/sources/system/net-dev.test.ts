import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { HostUnderTest } from '../../testing/stages.ts';
import { parseNetDev } from './net-dev.ts';

test('bytes sent over loopback TCP show up in lo rx and tx', async () => {
  const size = 16 * 1024 * 1024;
  let received = 0;
  const done = new Promise<void>((resolve) => {
    const server = createServer((s: Socket) => {
      s.on('data', (d: Buffer) => {
        received += d.length;
      });
      s.on('end', () => {
        server.close();
        resolve();
      });
    });
    server.listen(0, '127.0.0.1', async () => {
      const port = (server.address() as { port: number }).port;
      await src.collect();
      const c = connect(port, '127.0.0.1', () => c.end(Buffer.alloc(size, 1)));
    });
  });
  const src = new HostUnderTest({});
  await done;
  const out = await src.collect();
  assert.equal(received, size);
  const lo = out.network.find((r) => r.interface === 'lo');
  assert.ok(lo, 'a row for lo');
  const rx = (lo.rx_bytes_per_s as number) * (lo.interval_s as number);
  const tx = (lo.tx_bytes_per_s as number) * (lo.interval_s as number);
  // Loopback counts each byte once as sent and once as received, plus TCP/IP headers.
  assert.ok(rx >= size, `lo rx ${rx} >= ${size}`);
  assert.ok(tx >= size, `lo tx ${tx} >= ${size}`);
  assert.ok((lo.rx_packets_per_s as number) > 0);
  assert.equal(lo.rx_errors_per_s, 0);
});

test('parses /proc/net/dev lines, also a name glued to its first number', () => {
  const text = [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:   63353     895    0    0    0     0          0         0    63353     895    0    0    0     0       0          0',
    'enp0s31f6:4294967296 10 1 2 0 0 0 0 77 8 3 4 0 0 0 0',
  ].join('\n');
  const [lo, eth] = parseNetDev(text);
  assert.equal(lo.iface, 'lo');
  assert.equal(lo.rxBytes, 63353);
  assert.equal(lo.txPackets, 895);
  assert.deepEqual(
    [eth.iface, eth.rxBytes, eth.rxErrors, eth.rxDrops, eth.txBytes, eth.txPackets, eth.txErrors, eth.txDrops],
    ['enp0s31f6', 4294967296, 1, 2, 77, 8, 3, 4],
  );
});
