import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

// MAX_REQUEST_BODY_BYTES for GraphQL requests: the same refusals as Yoga's `maxRequestBodySize`
// (413 REQUEST_ENTITY_TOO_LARGE, mapped to REQUEST_TOO_LARGE by mask-error.ts; 400 for a malformed
// Content-Length), at a fraction of the cost. Yoga pipes every body through a counting
// TransformStream: per request a stream pipeline, an AbortController and, when the pipeline ends,
// a DOMException with its stack trace — half the server's CPU for a small query. Here a body with a
// Content-Length is judged by the header alone: Node's parser never hands on more bytes than it
// announces, and refuses a request that has both Content-Length and Transfer-Encoding. Only a body
// without one (chunked) is counted as it is read, and refused as soon as it passes the limit.

const tooLarge = () =>
  new GraphQLError('Request body too large', { extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' } });

const invalidLength = () =>
  new GraphQLError('Content-Length header is invalid.', { extensions: { http: { status: 400 }, code: 'BAD_REQUEST' } });

// One non-negative integer: a list ("10, 10") or a sign is refused rather than read some way.
const CONTENT_LENGTH = /^\d+$/;

/** Registered after the request parsers (Yoga's own are), so it wraps whichever one was chosen. */
export function useRequestBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const contentLength = request.headers.get('content-length');
      // Node refuses Content-Length beside Transfer-Encoding; should its lenient parser be turned on
      // (--insecure-http-parser), such a body is counted like any other without a length it keeps to.
      if (contentLength !== null && !request.headers.has('transfer-encoding')) {
        if (!CONTENT_LENGTH.test(contentLength)) throw invalidLength();
        if (Number(contentLength) > limit) throw tooLarge();
        return;
      }
      const body = request.body;
      if (!requestParser || !body) return;
      setRequestParser((req) => {
        let read = 0;
        const counted = body.pipeThrough(
          new fetchAPI.TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              read += chunk.byteLength;
              if (read > limit) controller.error(tooLarge());
              else controller.enqueue(chunk);
            },
          }),
        );
        return requestParser(
          new fetchAPI.Request(req.url, {
            method: req.method,
            headers: req.headers,
            signal: req.signal,
            body: counted,
            duplex: 'half',
          } as RequestInit),
        );
      });
    },
  };
}
