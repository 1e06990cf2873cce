// Etsy statsd server module for the benchmark: the same dgram server as statsd's servers/udp.js, plus
// (1) the receive buffer every receiver in the benchmark gets (or the kernel default), (2) port 0 with the bound port printed,
// (3) a packet count served over HTTP on 127.0.0.1 (ground truth for the benchmark). The count is taken
// before statsd's own handler runs, like statsd's own packets_received.
const dgram = require('node:dgram');
const http = require('node:http');

exports.start = (config, callback) => {
  let packets = 0;
  const rcvbuf = Number(config.recvBufferSize) || 0; // 0: the kernel default, as stock statsd 0.9 runs
  const server = dgram.createSocket({ type: 'udp4', ...(rcvbuf > 0 ? { recvBufferSize: rcvbuf } : {}) });
  server.on('message', (msg, rinfo) => {
    packets++;
    callback(msg, rinfo);
  });
  server.bind(config.port || 0, config.address || '127.0.0.1', () => {
    const counter = http.createServer((_req, res) => res.end(JSON.stringify({ packets })));
    counter.listen(0, '127.0.0.1', () => {
      process.stdout.write(
        `${JSON.stringify({ udp: server.address().port, count: counter.address().port, rcvbufKernel: server.getRecvBufferSize() })}\n`,
      );
    });
  });
  return true;
};
