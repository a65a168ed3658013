// A small "posts" subgraph beside Gatehouse: posts live here, their authors are Gatehouse users.
// It trusts the viewer only through Gatehouse's access token, verified offline against Gatehouse's
// JWKS (jose); it never sees a password, a refresh token or a cookie.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';

export interface PostsSubgraphOptions {
  /** Where Gatehouse publishes its keys: `<gatehouse>/.well-known/jwks.json`. */
  jwksUrl: string;
  /** Gatehouse's PUBLIC_URL (the `iss` of its tokens) and JWT_AUDIENCE (the `aud`). */
  issuer: string;
  audience: string;
  port?: number;
  host?: string;
}

interface Viewer {
  userId: string;
  sessionId: string;
  policies: string[];
}

interface Post {
  id: string;
  title: string;
  public: boolean;
  authorId: string;
  createdAt: string;
}

interface PostsContext {
  viewer: Viewer | null;
  /** A token was sent but is not (or no longer) valid: fields that need a viewer report this. */
  authError: GraphQLError | null;
}

/** The posts subgraph's schema: a `User` entity owned by Gatehouse, extended with `posts`. */
export const POSTS_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])

  type Post {
    id: ID!
    title: String!
    "Public posts are read by anyone; the others only by their author."
    public: Boolean!
    createdAt: String!
    "A Gatehouse user: the gateway asks Gatehouse for its fields, under the caller's policies."
    author: User
  }

  type User @key(fields: "id") {
    id: ID!
    "This user's posts the viewer may read."
    posts: [Post!]!
  }

  type Query {
    "Public posts, and the viewer's own, newest first."
    posts: [Post!]!
  }

  type Mutation {
    "Creates a post as the signed-in viewer."
    createPost(title: String!, public: Boolean = true): Post!
  }
`;

// graphql's resolver types take an `unknown` context; Yoga builds it with viewerFrom below.
const contextOf = (ctx: unknown) => ctx as PostsContext;

const codedError = (code: string, message: string) => new GraphQLError(message, { extensions: { code } });

export async function startPostsSubgraph(options: PostsSubgraphOptions) {
  const posts: Post[] = [];
  // jose fetches the key set once, caches it, and refetches it when a token names an unknown key.
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl));

  async function viewerFrom(authorization: string | null): Promise<Pick<PostsContext, 'viewer' | 'authError'>> {
    if (!authorization) return { viewer: null, authError: null };
    const token = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization.trim())?.[1];
    if (!token) return { viewer: null, authError: codedError('INVALID_TOKEN', 'The token is invalid, used or revoked.') };
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ['EdDSA', 'ES256'],
        typ: 'at+jwt',
      });
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') throw new Error('missing sub or sid');
      const policies = Array.isArray(payload.policies) ? payload.policies.filter((p): p is string => typeof p === 'string') : [];
      return { viewer: { userId: payload.sub, sessionId: payload.sid, policies }, authError: null };
    } catch (error) {
      return error instanceof joseErrors.JWTExpired
        ? { viewer: null, authError: codedError('TOKEN_EXPIRED', 'The token has expired.') }
        : { viewer: null, authError: codedError('INVALID_TOKEN', 'The token is invalid, used or revoked.') };
    }
  }

  const readable = (post: Post, viewer: Viewer | null) => post.public || post.authorId === viewer?.userId;
  const newestFirst = (a: Post, b: Post) => b.createdAt.localeCompare(a.createdAt);

  const schema = buildSubgraphSchema({
    typeDefs: parse(POSTS_SDL),
    resolvers: {
      Query: {
        posts(_root: unknown, _args: unknown, ctx: unknown) {
          return posts.filter((p) => readable(p, contextOf(ctx).viewer)).sort(newestFirst);
        },
      },
      Mutation: {
        createPost(_root: unknown, args: { title: string; public?: boolean | null }, ctx: unknown) {
          const { viewer, authError } = contextOf(ctx);
          if (!viewer) throw authError ?? codedError('UNAUTHENTICATED', 'You must be signed in to do this.');
          const title = args.title.trim();
          if (title.length === 0 || title.length > 200) throw codedError('BAD_USER_INPUT', 'title: must be 1 to 200 characters');
          const post: Post = {
            id: randomUUID(),
            title,
            public: args.public ?? true,
            authorId: viewer.userId,
            createdAt: new Date().toISOString(),
          };
          posts.push(post);
          return post;
        },
      },
      Post: {
        // Only the key: every other field of the author comes from Gatehouse.
        author(post: Post) {
          return { __typename: 'User', id: post.authorId };
        },
      },
      User: {
        posts(user: { id: string }, _args: unknown, ctx: unknown) {
          return posts.filter((p) => p.authorId === user.id && readable(p, contextOf(ctx).viewer)).sort(newestFirst);
        },
      },
    },
  });

  const yoga = createYoga<Record<string, never>, PostsContext>({
    schema,
    context: ({ request }) => viewerFrom(request.headers.get('authorization')),
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
  });
  const server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/graphql`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
