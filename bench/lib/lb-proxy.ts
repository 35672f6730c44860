// The local load balancer's TCP listener in a process of its own, for `bench -- loadbalancer`:
// listens on argv[2]:0 and forwards to 127.0.0.1:argv[3]. Prints its port.
import { TcpListener } from '../../src/cloud/providers/local/proxy.ts';
import net from 'node:net';

const [ip, backendPort] = [process.argv[2]!, Number(process.argv[3])];
const probe = net.createServer();
await new Promise<void>((r) => probe.listen(0, ip, r));
const port = (probe.address() as net.AddressInfo).port;
await new Promise((r) => probe.close(r));
const l = new TcpListener(ip, port);
await l.listen();
l.setBackends([{ host: '127.0.0.1', port: backendPort }]);
console.log(port);
