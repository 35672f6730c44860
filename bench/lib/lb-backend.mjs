// Backend for `bench -- loadbalancer`: an HTTP server on 127.0.0.1 answering GET / with "ok" and
// GET /bulk/N with N bytes, in a process of its own. Prints its port.
import http from 'node:http';
const chunk = Buffer.alloc(256 * 1024, 120);
const srv = http.createServer((req, res) => {
  if (req.url.startsWith('/bulk/')) {
    let left = Number(req.url.slice(6));
    res.writeHead(200, { 'content-length': left });
    const pump = () => {
      while (left > 0) {
        const c = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= c.length;
        if (!res.write(c)) return res.once('drain', pump);
      }
      res.end();
    };
    return pump();
  }
  res.writeHead(200, { 'content-length': 2 });
  res.end('ok');
});
srv.keepAliveTimeout = 60_000;
srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));
