// A real OpenID provider (panva/oidc-provider) and an independent token minter (panva/jose)
// for route-guard's integration tests. Started by tests/tests/provider/mod.rs; listens on
// 127.0.0.1 only, prints {"port": N} on its first stdout line, and exits when its stdin closes
// (that is, when the test process that started it ends, however it ends).
//
// Routes besides the provider's own (discovery, /jwks, /token, ...):
//   POST /admin/rotate            new signing key (new kid); the old one is withdrawn
//   POST /admin/jwks?mode=M       how /jwks answers: ok | status500 | garbage | huge |
//                                 hugestream | slow | empty
//   GET  /admin/stats             {"jwks": number of /jwks requests so far}
//   GET  /moved, /loop            a redirect to /jwks, and an endless one
//   GET  /jose/jwks               public keys of the jose minter, one per algorithm
//   GET  /jose/token?alg=A&sub=S  a token signed by jose with algorithm A

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

let generation = 0;
let provider;
let jwksMode = 'ok';
let jwksHits = 0;

async function signingKey(kid) {
  const { privateKey } = await jose.generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

async function makeProvider(issuer) {
  generation += 1;
  const key = await signingKey(`provider-key-${generation}`);
  const instance = new Provider(issuer, {
    clients: [
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
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
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
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
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
function jwksOverride(res, foreign) {
  const foreignSet = JSON.stringify({ keys: [foreign] }).slice(0, -1);
  switch (jwksMode) {
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

async function main() {
  const keys = await joseKeys();
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      if (req.method === 'POST' && url.pathname === '/admin/rotate') {
        provider = await makeProvider(provider.issuer);
        return send(res, 200, { kid: `provider-key-${generation}` });
      }
      if (req.method === 'POST' && url.pathname === '/admin/jwks') {
        jwksMode = url.searchParams.get('mode') ?? 'ok';
        return send(res, 200, { mode: jwksMode });
      }
      if (url.pathname === '/admin/stats') return send(res, 200, { jwks: jwksHits });
      if (url.pathname === '/moved' || url.pathname === '/loop') {
        res.writeHead(302, { location: url.pathname === '/moved' ? '/jwks' : '/loop' });
        return res.end();
      }
      if (url.pathname === '/jose/jwks') {
        return send(res, 200, { keys: ASYMMETRIC.map((alg) => keys[alg].jwk) });
      }
      if (url.pathname === '/jose/token') {
        const token = await joseToken(keys, url.searchParams.get('alg'), url.searchParams.get('sub') ?? 'interop');
        return send(res, 200, token, 'text/plain');
      }
      if (url.pathname === '/jwks') {
        jwksHits += 1;
        if (jwksOverride(res, keys.RS256.jwk) !== false) return undefined;
      }
      return provider.callback()(req, res);
    } catch (error) {
      console.error(error);
      return send(res, 500, { error: String(error) });
    }
  });
  server.listen(0, '127.0.0.1', async () => {
    const { port } = server.address();
    provider = await makeProvider(`http://127.0.0.1:${port}`);
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
