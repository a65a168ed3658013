// nodemailer, loaded by mail.transport.ts when the first message is sent rather than at start-up: its code took
// ~0.8 MiB of V8's heap in every process, most of which never sends a message. Imported through this ES module,
// not as `import('nodemailer')`: nodemailer is CommonJS, and a dynamic import() of a CommonJS package in the split
// bundle yields only its `default` (see src/pubsub/redis-client.ts).
export { createTransport } from 'nodemailer';
