// A real OpenID provider (panva/oidc-provider) and an independent token minter (panva/jose)
// for route-guard's integration tests. Started once per test process by
// tests/tests/provider/mod.rs; listens on 127.0.0.1 only, prints {"port": N} on its first stdout
// line, and exits when its stdin closes (that is, when the test process that started it ends,
// however it ends).
//
// One process serves many tests at once: each test asks for a tenant of its own, a provider
// with its own issuer (http://127.0.0.1:PORT/t/N), signing key, /jwks failure mode and request
// counts, so that tests neither wait for each other nor see each other's requests.
//
//   POST /admin/tenant            a new tenant: {"issuer": "http://127.0.0.1:PORT/t/N"}
//   POST /admin/tenant?format=opaque  a tenant whose access tokens are opaque (RFC 7662
//                                 introspection at /token/introspection, revocation at
//                                 /token/revocation), introspected by the resource server's
//                                 clients `api-basic` (client_secret_basic) and `api-post`
//                                 (client_secret_post), both with the secret `api-secret`
//
// Routes of a tenant, under its issuer, besides the provider's own (discovery, /jwks, /token):
//   POST /admin/rotate            new signing key (new kid); the old one is withdrawn
//   POST /admin/jwks?mode=M       how /jwks answers: ok | status500 | garbage | huge |
//                                 hugestream | slow | empty
//   GET  /admin/stats             {"jwks": N, "discovery": N, "introspection": N}: requests to
//                                 /jwks, /.well-known/openid-configuration and
//                                 /token/introspection so far
//   GET  /moved, /loop            a redirect to /jwks, and an endless one
//   GET  /jose/jwks               public keys of the jose minter, one per algorithm
//   GET  /jose/token?alg=A&sub=S  a token signed by jose with algorithm A
//   POST /jose/dpop-token?scope=S&alg=A  a DPoP-bound access token (RFC 9449) from this
//                                 tenant's token endpoint, for a key pair jose makes with
//                                 algorithm A (ES256 by default): {access_token, jwk}
//   POST /jose/dpop-proof         a DPoP proof jose signs, as the JSON body says (see dpopProof)

import http from 'node:http';
import Provider from 'oidc-provider';
import * as jose from 'jose';

export const RESOURCE = 'https://api.route-guard.test';
const JOSE_ISSUER = 'https://jose.route-guard.test';
const JOSE_AUDIENCE = 'route-guard-interop';
// Shared with the Rust side (tests/tests/interop.rs) for the HMAC algorithms.
const HMAC_SECRET = new TextEncoder().encode(
  'route-guard interop secret: comfortably longer than the sixty-four bytes HS512 needs',
);
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

const tenants = new Map();
let origin;

async function signingKey(kid) {
  const { privateKey } = await jose.generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

// A provider for `tenant`, with a new signing key (a rotation when it replaces one).
async function makeProvider(tenant) {
  tenant.generation += 1;
  const key = await signingKey(`provider-key-${tenant.generation}`);
  const opaque = tenant.format === 'opaque';
  // The resource server's own clients, which may only introspect.
  const resourceServers = ['client_secret_basic', 'client_secret_post'].map((method) => ({
    client_id: method === 'client_secret_basic' ? 'api-basic' : 'api-post',
    client_secret: 'api-secret',
    grant_types: [],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: method,
  }));
  const instance = new Provider(tenant.issuer, {
    clients: [
      ...(opaque ? resourceServers : []),
      {
        client_id: 'reports-client',
        client_secret: 'reports-secret',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'read:reports write:reports',
      },
    ],
    jwks: { keys: [key] },
    scopes: ['openid', 'read:reports', 'write:reports'],
    // DPoP proofs of every family the guard advertises, not only the default ES256 and EdDSA.
    enabledJWA: {
      dPoPSigningAlgValues: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'],
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // RFC 9449: a token request with a DPoP proof gets a token bound to the proof's key.
      dPoP: { enabled: true },
      introspection: { enabled: opaque },
      revocation: { enabled: opaque },
      // RFC 8707: tokens for a resource server are RS256 JWT access tokens (RFC 9068) whose
      // `aud` is the resource and whose `scope` is what the client asked for.
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'read:reports write:reports',
          audience: RESOURCE,
          accessTokenTTL: 300,
          accessTokenFormat: opaque ? 'opaque' : 'jwt',
          ...(opaque ? {} : { jwt: { sign: { alg: 'RS256' } } }),
        }),
      },
    },
  });
  instance.on('server_error', (ctx, error) => console.error('provider error:', error));
  return instance;
}

async function joseKeys() {
  const keys = {};
  for (const alg of ASYMMETRIC) {
    const options = alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true };
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, options);
    const jwk = { ...(await jose.exportJWK(publicKey)), kid: `jose-${alg}`, alg, use: 'sig' };
    keys[alg] = { privateKey, jwk };
  }
  return keys;
}

async function joseToken(keys, alg, sub) {
  const hmac = alg.startsWith('HS');
  if (!hmac && !keys[alg]) throw new Error(`unsupported alg ${alg}`);
  return new jose.SignJWT({ roles: ['reader'] })
    .setProtectedHeader(hmac ? { alg, typ: 'JWT' } : { alg, kid: `jose-${alg}`, typ: 'JWT' })
    .setIssuer(JOSE_ISSUER)
    .setAudience(JOSE_AUDIENCE)
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(hmac ? HMAC_SECRET : keys[alg].privateKey);
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

// How /jwks answers in each failure mode the key fetcher must survive. The oversized answers
// hold a valid set with a foreign key: were the size cap not enforced, the real tokens would
// stop verifying.
function jwksOverride(res, mode, foreign) {
  const foreignSet = JSON.stringify({ keys: [foreign] }).slice(0, -1);
  switch (mode) {
    case 'status500':
      return send(res, 500, { error: 'server_error' });
    case 'garbage':
      return send(res, 200, '<html>maintenance</html>', 'text/html');
    case 'huge':
      return send(res, 200, `${foreignSet},"pad":"${'x'.repeat(4 * 1024 * 1024)}"}`);
    case 'hugestream': {
      // No Content-Length: the fetcher must stop reading at its own cap.
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = 'x'.repeat(64 * 1024);
      res.write(`${foreignSet},"pad":"`);
      for (let i = 0; i < 64; i += 1) res.write(chunk);
      return res.end('"}');
    }
    case 'empty':
      return send(res, 200, { keys: [] });
    case 'slow':
      // Never answers within any sane timeout; the socket is closed when the test ends.
      return setTimeout(() => send(res, 503, {}), 60_000).unref();
    default:
      return false;
  }
}

async function newTenant(format) {
  const name = String(tenants.size + 1);
  const tenant = {
    issuer: `${origin}/t/${name}`, format, generation: 0, mode: 'ok', jwks: 0, discovery: 0, introspection: 0,
  };
  tenants.set(name, tenant);
  tenant.provider = await makeProvider(tenant);
  return tenant;
}

// A request under a tenant's issuer; `path` is what follows the issuer.
async function tenantRoute(req, res, url, tenant, prefix, path, keys) {
  if (req.method === 'POST' && path === '/admin/rotate') {
    tenant.provider = await makeProvider(tenant);
    return send(res, 200, { kid: `provider-key-${tenant.generation}` });
  }
  if (req.method === 'POST' && path === '/admin/jwks') {
    tenant.mode = url.searchParams.get('mode') ?? 'ok';
    return send(res, 200, { mode: tenant.mode });
  }
  if (path === '/admin/stats') {
    const { jwks, discovery, introspection } = tenant;
    return send(res, 200, { jwks, discovery, introspection });
  }
  if (path === '/token/introspection') tenant.introspection += 1;
  if (path === '/moved' || path === '/loop') {
    res.writeHead(302, { location: `${prefix}${path === '/moved' ? '/jwks' : '/loop'}` });
    return res.end();
  }
  if (path === '/jose/jwks') {
    return send(res, 200, { keys: ASYMMETRIC.map((alg) => keys[alg].jwk) });
  }
  if (path === '/jose/token') {
    const token = await joseToken(keys, url.searchParams.get('alg'), url.searchParams.get('sub') ?? 'interop');
    return send(res, 200, token, 'text/plain');
  }
  if (req.method === 'POST' && path === '/jose/dpop-token') {
    const alg = url.searchParams.get('alg') ?? 'ES256';
    return send(res, 200, await dpopToken(tenant, url.searchParams.get('scope'), alg));
  }
  if (req.method === 'POST' && path === '/jose/dpop-proof') {
    return send(res, 200, await dpopProof(JSON.parse(await body(req))), 'text/plain');
  }
  if (path === '/.well-known/openid-configuration') tenant.discovery += 1;
  if (path === '/jwks') {
    tenant.jwks += 1;
    if (jwksOverride(res, tenant.mode, keys.RS256.jwk) !== false) return undefined;
  }
  // Mounted as connect/express mount a provider: it reads its mount path from originalUrl.
  req.originalUrl = req.url;
  req.url = req.url.slice(prefix.length) || '/';
  return tenant.provider.callback()(req, res);
}

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function publicPart(jwk) {
  return Object.fromEntries(Object.entries(jwk).filter(([name]) => !PRIVATE_MEMBERS.includes(name)));
}

// A DPoP proof (RFC 9449 §4.2), signed by jose. The body says what goes in it:
//   jwk            the client's private JWK (with `alg`), which signs the proof
//   htm, htu       the method and URI the proof is for
//   access_token   the token whose hash goes in `ath`; or `ath` itself
//   iat, jti, typ  override the current time, a random id, `dpop+jwt`
//   nonce          the server nonce to include
//   header_jwk     the `jwk` header to send instead of the key's public part
//   hmac_secret    sign with HS256 and this secret instead (a proof that must be refused)
//   unsecured      `alg: none` and no signature (a proof that must be refused)
async function dpopProof(spec) {
  const alg = spec.jwk?.alg ?? 'ES256';
  const header = {
    typ: spec.typ ?? 'dpop+jwt',
    alg,
    jwk: spec.header_jwk ?? publicPart(spec.jwk ?? {}),
  };
  const payload = {
    htm: spec.htm,
    htu: spec.htu,
    jti: spec.jti ?? crypto.randomUUID(),
    iat: spec.iat ?? Math.floor(Date.now() / 1000),
  };
  if (spec.access_token) {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(spec.access_token));
    payload.ath = jose.base64url.encode(new Uint8Array(digest));
  }
  if ('ath' in spec) payload.ath = spec.ath;
  if (spec.nonce) payload.nonce = spec.nonce;
  if (spec.unsecured) {
    const part = (value) => jose.base64url.encode(JSON.stringify(value));
    return `${part({ ...header, alg: 'none' })}.${part(payload)}.`;
  }
  if (spec.hmac_secret) {
    return new jose.SignJWT(payload)
      .setProtectedHeader({ ...header, alg: 'HS256' })
      .sign(new TextEncoder().encode(spec.hmac_secret));
  }
  return new jose.SignJWT(payload).setProtectedHeader(header).sign(await jose.importJWK(spec.jwk, alg));
}

// A client with a key pair of its own gets a DPoP-bound token from the tenant's token endpoint.
async function dpopToken(tenant, scope, alg) {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await jose.exportJWK(privateKey)), alg };
  const endpoint = `${tenant.issuer}/token`;
  const proof = await dpopProof({ jwk, htm: 'POST', htu: endpoint });
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (scope) form.set('scope', scope);
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('reports-client:reports-secret').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      dpop: proof,
    },
    body: form,
  });
  const answer = await response.json();
  if (!answer.access_token) throw new Error(`the token endpoint answered ${JSON.stringify(answer)}`);
  return { access_token: answer.access_token, token_type: answer.token_type, jwk };
}

async function main() {
  // Stdout carries the port line alone and is closed by the reader after it: the provider's
  // notices (console.log, console.info) go to the log with everything else.
  console.log = console.error;
  console.info = console.error;
  const keys = await joseKeys();
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      if (req.method === 'POST' && url.pathname === '/admin/tenant') {
        const tenant = await newTenant(url.searchParams.get('format') ?? 'jwt');
        return send(res, 200, { issuer: tenant.issuer });
      }
      const match = /^\/t\/(\d+)(\/.*)?$/.exec(url.pathname);
      const tenant = match && tenants.get(match[1]);
      if (!tenant) return send(res, 404, { error: 'no such tenant' });
      return await tenantRoute(req, res, url, tenant, `/t/${match[1]}`, match[2] ?? '/', keys);
    } catch (error) {
      console.error(error);
      return send(res, 500, { error: String(error) });
    }
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    origin = `http://127.0.0.1:${port}`;
    process.stdout.write(`${JSON.stringify({ port })}\n`);
  });
  // The test process holds our stdin; when it ends, so do we.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
