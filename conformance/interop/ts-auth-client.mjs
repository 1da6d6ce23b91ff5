// conformance/interop/ts-auth-client.mjs — the official TypeScript SDK
// client with its OAuth support (client credentials), for
// conformance/interop_ts_auth_test.go.
//
// Usage: node ts-auth-client.mjs <endpoint URL> <issuer> <client id> <client secret>
//
// The client meets the 401, finds the Protected Resource Metadata from
// WWW-Authenticate, then the issuer's metadata, gets a token with the
// client_credentials grant and completes a session. Prints one JSON object
// per step on stdout; exits 1 on an unexpected error.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';

const [endpoint, issuer, clientId, clientSecret] = process.argv.slice(2);
const url = new URL(endpoint);
const out = (step, v) => console.log(JSON.stringify({ step, ...v }));

try {
  const provider = new ClientCredentialsProvider({ clientId, clientSecret, expectedIssuer: issuer, scope: 'mcp' });
  const client = new Client({ name: 'mcpfiber-ts-auth', version: '1.0.0' }, { capabilities: {} });
  let transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
  try {
    await client.connect(transport);
  } catch (e) {
    // The SDK gets a token on the 401 and may ask the caller to connect
    // again with it.
    if (!(e instanceof UnauthorizedError)) throw e;
    out('unauthorized', { message: String(e.message) });
    transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
    await client.connect(transport);
  }
  out('connected', { sessionId: transport.sessionId ?? null, token: Boolean(provider.tokens()?.access_token) });
  const r = await client.callTool({ name: 'test_simple_text', arguments: {} });
  out('called', { text: r.content[0]?.text });
  await transport.terminateSession();
  await client.close();
  out('done', {});
} catch (e) {
  out('error', { message: String(e?.stack ?? e) });
  process.exit(1);
}
