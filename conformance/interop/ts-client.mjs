// conformance/interop/ts-client.mjs — drive an MCP server with the official
// TypeScript SDK client (@modelcontextprotocol/sdk), for
// conformance/interop_ts_test.go.
//
// Usage: node ts-client.mjs <endpoint URL> [<endpoint URL of another node>...]
//
// With several URLs (nodes sharing their sessions), every HTTP request
// (POST, GET, DELETE) goes to the next node in turn, as through a load
// balancer without session affinity: the SDK's transport gets a custom
// fetch that rewrites the host of each request, and the last step,
// "routes", lists which node got what.
//
// Prints one JSON object per step on stdout; the Go test checks them.
// Exits 1 on an unexpected error.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const urls = process.argv.slice(2).map((u) => new URL(u));
const url = urls[0];
const out = (step, v) => console.log(JSON.stringify({ step, ...v }));

// rpcKind returns what a POST body is: its JSON-RPC method, "result" for a
// response, or "" for anything else.
function rpcKind(body) {
  try {
    const m = JSON.parse(body);
    return m.method ?? (m.result !== undefined ? 'result' : '');
  } catch {
    return '';
  }
}

const routes = [];
let next = 0;
// rotate is the transports' fetch with several nodes: it sends each request
// to the next node in turn.
function rotate(input, init) {
  const node = next++ % urls.length;
  const target = new URL(input instanceof Request ? input.url : input);
  target.host = urls[node].host;
  routes.push({ node, method: init?.method ?? 'GET', rpc: typeof init?.body === 'string' ? rpcKind(init.body) : '' });
  return fetch(target, init);
}
// outRoutes prints, with several nodes, which node got which request.
const outRoutes = () => urls.length > 1 && out('routes', { routes });
// transportOptions adds the rotating fetch to opts when there are several nodes.
const transportOptions = (opts = {}) => (urls.length > 1 ? { ...opts, fetch: rotate } : opts);

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
  const transport = new StreamableHTTPClientTransport(url, transportOptions());
  await client.connect(transport);
  out('connected', { sessionId: transport.sessionId, protocolVersion: transport.protocolVersion ?? null });

  const tools = await client.listTools();
  out('tools', { names: tools.tools.map((t) => t.name) });

  // A typed tool (mcp.AddTool): schemas inferred from Go types, a result
  // with structuredContent and a text copy of it.
  const typed = tools.tools.find((t) => t.name === 'typed_sum');
  const r0 = await client.callTool({ name: 'typed_sum', arguments: { a: 2, b: 40 } });
  out('typed', {
    inputSchema: typed?.inputSchema ?? null,
    outputSchema: typed?.outputSchema ?? null,
    structuredContent: r0.structuredContent ?? null,
    text: r0.content[0]?.text ?? null,
    isError: r0.isError ?? false,
  });

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

  const stale = new StreamableHTTPClientTransport(url, transportOptions({ sessionId: oldId }));
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
  const transport2 = new StreamableHTTPClientTransport(url, transportOptions());
  await again.connect(transport2);
  const r3 = await again.callTool({ name: 'test_simple_text' });
  out('reinitialized', { sessionId: transport2.sessionId, text: r3.content[0]?.text });
  await transport2.terminateSession();
  await again.close();
  outRoutes();
} catch (e) {
  out('error', { message: String(e?.stack ?? e) });
  outRoutes();
  process.exit(1);
}
