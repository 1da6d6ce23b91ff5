// conformance/interop/ts-client.mjs — drive an MCP server with the official
// TypeScript SDK client (@modelcontextprotocol/sdk), for
// conformance/interop_ts_test.go.
//
// Usage: node ts-client.mjs <endpoint URL>
//
// Prints one JSON object per step on stdout; the Go test checks them.
// Exits 1 on an unexpected error.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const url = new URL(process.argv[2]);
const out = (step, v) => console.log(JSON.stringify({ step, ...v }));

function newClient() {
  const client = new Client(
    { name: 'mcpfiber-ts-interop', version: '1.0.0' },
    { capabilities: { elicitation: {} } },
  );
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    out('elicit', { message: req.params.message, properties: Object.keys(req.params.requestedSchema?.properties ?? {}) });
    return { action: 'accept', content: { username: 'ts-user', email: 'ts@example.com' } };
  });
  return client;
}

try {
  // A session: list and call tools, receive progress, answer an elicitation.
  const client = newClient();
  const transport = new StreamableHTTPClientTransport(url);
  await client.connect(transport);
  out('connected', { sessionId: transport.sessionId, protocolVersion: transport.protocolVersion ?? null });

  const tools = await client.listTools();
  out('tools', { names: tools.tools.map((t) => t.name) });

  const progress = [];
  const r1 = await client.callTool({ name: 'test_tool_with_progress', arguments: {} }, undefined, {
    onprogress: (p) => progress.push(p.progress),
  });
  out('progress', { progress, text: r1.content[0]?.text });

  const r2 = await client.callTool({ name: 'test_elicitation', arguments: { message: 'Who are you?' } });
  out('elicitation', { text: r2.content[0]?.text });

  // Delete the session (HTTP DELETE), then use its ID again: 404.
  const oldId = transport.sessionId;
  await transport.terminateSession();
  out('deleted', { sessionId: oldId });
  await client.close();

  const stale = new StreamableHTTPClientTransport(url, { sessionId: oldId });
  const errors = [];
  stale.onerror = (e) => errors.push(e);
  await stale.start();
  try {
    await stale.send({ jsonrpc: '2.0', id: 99, method: 'tools/list', params: {} });
    out('stale', { ok: true });
  } catch (e) {
    out('stale', { ok: false, code: e.code ?? null, message: String(e.message) });
  }
  await stale.close();

  // Start over: a new session works.
  const again = newClient();
  const transport2 = new StreamableHTTPClientTransport(url);
  await again.connect(transport2);
  const r3 = await again.callTool({ name: 'test_simple_text' });
  out('reinitialized', { sessionId: transport2.sessionId, text: r3.content[0]?.text });
  await transport2.terminateSession();
  await again.close();
} catch (e) {
  out('error', { message: String(e?.stack ?? e) });
  process.exit(1);
}
