import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRegistries, renderAuthTables, renderHostsFiles, RegistriesError } from './registries.ts';

const K3S_STYLE = `
mirrors:
  docker.io:
    endpoint:
      - "http://127.0.0.1:5000"
      - "https://mirror.example.com/v2/proxy"
  registry.example.com:
    endpoint: ["registry.example.com:5443"]
  "*":
    endpoint: ["https://everything.example.com"]
configs:
  "127.0.0.1:5000":
    auth:
      username: alice
      password: "s3cr\\"et"
  registry.example.com:5443:
    tls:
      ca_file: /etc/ssl/ca.pem
      cert_file: /etc/ssl/client.pem
      key_file: /etc/ssl/client.key
  https://insecure.example.com:
    tls:
      insecure_skip_verify: true
    auth:
      auth: YWxpY2U6cHc=
`;

test('parses mirrors and configs, warning about what containerd 1.6 cannot do', () => {
  const { config, warnings } = parseRegistries(K3S_STYLE);
  assert.deepEqual(config.mirrors['docker.io'], { endpoints: ['http://127.0.0.1:5000', 'https://mirror.example.com/v2/proxy'] });
  assert.deepEqual(config.mirrors['registry.example.com'], { endpoints: ['https://registry.example.com:5443'] }, 'scheme defaults to https');
  assert.equal(config.mirrors['*'], undefined);
  assert.match(warnings.join('\n'), /"\*" mirror .* not supported by containerd 1\.6/);
  assert.deepEqual(config.configs['127.0.0.1:5000']!.auth, { username: 'alice', password: 's3cr"et', auth: undefined, identityToken: undefined });
  assert.equal(config.configs['insecure.example.com']!.tls!.insecureSkipVerify, true, 'a scheme in a config key is dropped');
});

test('renders one hosts.toml per registry: mirrors in order, TLS by host, the upstream as server', () => {
  const files = renderHostsFiles(parseRegistries(K3S_STYLE).config);
  assert.deepEqual([...files.keys()], ['docker.io', 'insecure.example.com', 'registry.example.com', 'registry.example.com:5443']);
  assert.equal(
    files.get('docker.io'),
    [
      'server = "https://registry-1.docker.io"',
      '',
      '[host."http://127.0.0.1:5000"]',
      '  capabilities = ["pull", "resolve"]',
      '',
      '[host."https://mirror.example.com/v2/proxy"]',
      '  capabilities = ["pull", "resolve"]',
      '  override_path = true',
      '',
    ].join('\n'),
  );
  assert.match(files.get('registry.example.com')!, /\[host\."https:\/\/registry\.example\.com:5443"\]\n {2}capabilities = \["pull", "resolve"\]\n {2}ca = "\/etc\/ssl\/ca\.pem"\n {2}client = \[\["\/etc\/ssl\/client\.pem", "\/etc\/ssl\/client\.key"\]\]/);
  assert.equal(files.get('insecure.example.com'), 'server = "https://insecure.example.com"\nskip_verify = true\n');
});

test('credentials go to the CRI plugin auth tables, quoted', () => {
  const toml = renderAuthTables(parseRegistries(K3S_STYLE).config);
  assert.equal(
    toml,
    [
      '[plugins."io.containerd.grpc.v1.cri".registry.configs."127.0.0.1:5000".auth]',
      '  username = "alice"',
      '  password = "s3cr\\"et"',
      '[plugins."io.containerd.grpc.v1.cri".registry.configs."insecure.example.com".auth]',
      '  auth = "YWxpY2U6cHc="',
      '',
    ].join('\n'),
  );
  assert.equal(renderAuthTables({ mirrors: {}, configs: {} }), '');
});

test('an empty file is an empty config', () => {
  assert.deepEqual(parseRegistries('').config, { mirrors: {}, configs: {} });
  assert.deepEqual(parseRegistries('# nothing\n').config, { mirrors: {}, configs: {} });
});

test('bad input names the field', () => {
  const bad: [string, RegExp][] = [
    ['mirrors: [1]', /mirrors must be a mapping/],
    ['mirrors:\n  docker.io:\n    endpoint: http://x', /mirrors\."docker\.io"\.endpoint must be a list of URLs/],
    ['mirrors:\n  docker.io:\n    endpoint: ["ftp://x"]', /endpoint\[0\]: "ftp:\/\/x" must be http:\/\/ or https:\/\//],
    ['mirrors:\n  "bad host!":\n    endpoint: []', /"bad host!" is not a registry host/],
    ['configs:\n  r.io:\n    auth:\n      username: 5', /configs\."r\.io"\.auth\.username must be a string/],
    ['configs:\n  r.io:\n    tls:\n      insecure_skip_verify: "yes"', /insecure_skip_verify must be a boolean/],
    ['configs:\n  r.io:\n    tls:\n      cert_file: /a', /needs both cert_file and key_file/],
    ['mirrors: {a: [}', /not valid YAML/],
    ['- 1', /expected a mapping/],
  ];
  for (const [yaml, re] of bad) {
    assert.throws(() => parseRegistries(yaml, 'reg.yaml'), (e: Error) => e instanceof RegistriesError && re.test(e.message) && e.message.startsWith('reg.yaml: '), yaml);
  }
  const { warnings } = parseRegistries('mirrors:\n  docker.io:\n    endpoint: []\n    rewrite: {"^a": "b"}\nother: 1');
  assert.match(warnings.join('\n'), /rewrite is not supported/);
  assert.match(warnings.join('\n'), /unknown field "other" ignored/);
});
