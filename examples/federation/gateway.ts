// The gateway in front of Gatehouse and the posts subgraph: Apollo Gateway (IntrospectAndCompose
// reads each subgraph's `_service { sdl }` and composes the supergraph at start) served by Apollo
// Server. It decides nothing about identity itself: it forwards the caller's credentials to the
// subgraphs, which each verify them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import type { GraphQLFormattedError } from 'graphql';

export interface Subgraph {
  name: string;
  url: string;
}

export interface GatewayOptions {
  subgraphs: Subgraph[];
  /** The subgraph that is Gatehouse: the only one that gets the caller's cookies and sets cookies back. */
  gatehouse: string;
  port?: number;
  host?: string;
}

interface GatewayContext {
  req?: IncomingMessage;
  res?: ServerResponse;
}

/** Codes the subgraphs document; anything else from a subgraph is masked as an internal error. */
const PASSED_CODES = /^[A-Z][A-Z0-9_]*$/;

class ForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    url: string,
    private readonly isGatehouse: boolean,
  ) {
    super({ url });
  }

  override willSendRequest({ request, context }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['willSendRequest']>>[0]) {
    // Composition's own requests (`_service { sdl }`) carry no caller.
    const req = context?.req;
    const headers = request.http?.headers;
    if (!req || !headers) return;
    const { authorization, cookie } = req.headers;
    if (authorization) headers.set('authorization', authorization);
    if (cookie && this.isGatehouse) headers.set('cookie', cookie);
    if (req.headers['user-agent']) headers.set('user-agent', req.headers['user-agent']);
    // An edge gateway: the client is its socket peer; whatever X-Forwarded-For the client sent is
    // its own claim and is dropped. Gatehouse believes this header only from TRUST_PROXY addresses.
    // (Behind a load balancer of your own, append the peer to the balancer's header instead.)
    if (req.socket.remoteAddress) headers.set('x-forwarded-for', req.socket.remoteAddress);
  }

  override didReceiveResponse({
    response,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['didReceiveResponse']>>[0]) {
    // COOKIE and SESSION modes: Gatehouse's Set-Cookie goes back to the browser, for the gateway's host.
    const raw = (response.http?.headers as unknown as { raw?: () => Record<string, string[]> } | undefined)?.raw?.();
    if (this.isGatehouse && context?.res) for (const cookie of raw?.['set-cookie'] ?? []) context.res.appendHeader('set-cookie', cookie);
    return response;
  }
}

/** Subgraph errors keep their code and public message; the gateway's own internals stay in its log. */
function formatError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && PASSED_CODES.test(code) && code !== 'INTERNAL_SERVER_ERROR' && !formatted.extensions?.response) {
    const { serviceName: _serviceName, exception: _exception, stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  return { message: 'Unexpected error.', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

export async function startGateway(options: GatewayOptions) {
  // Apollo Gateway reports anonymous usage metrics to Apollo (and probes cloud metadata endpoints
  // for them) unless this opt-out is set: nothing of this example leaves the machine.
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
  const gateway = new ApolloGateway({
    supergraphSdl: new IntrospectAndCompose({ subgraphs: options.subgraphs }),
    buildService: ({ name, url }) => new ForwardingDataSource(url as string, name === options.gatehouse),
  });
  const server = new ApolloServer<GatewayContext>({
    gateway,
    includeStacktraceInErrorResponses: false,
    // Like Gatehouse: no "Did you mean …?" that maps the schema for anyone.
    hideSchemaDetailsFromClientErrors: true,
    formatError,
    // The default landing page (Apollo Sandbox) loads from Apollo's CDN.
    plugins: [ApolloServerPluginLandingPageDisabled()],
  });
  const { url } = await startStandaloneServer(server, {
    listen: { port: options.port ?? 0, host: options.host ?? '127.0.0.1' },
    context: async ({ req, res }) => ({ req, res }),
  });
  return {
    url: `${url.replace(/\/$/, '')}/graphql`,
    close: () => server.stop(),
  };
}
