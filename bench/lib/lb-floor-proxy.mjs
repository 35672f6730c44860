// The plainest Node TCP proxy, for `bench -- loadbalancer --floor`: each accepted connection piped
// to a new connection to 127.0.0.1:argv[3] and back (stream.pipe, no balancing). Prints its port.
import net from 'node:net';
const [ip, backendPort] = [process.argv[2], Number(process.argv[3])];
const server = net.createServer({ noDelay: true }, (client) => {
  const upstream = net.connect({ host: '127.0.0.1', port: backendPort, noDelay: true });
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
server.listen(0, ip, () => console.log(server.address().port));
