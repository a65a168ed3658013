// qrcode (and pngjs beneath it), loaded by two-factor.service.ts only when a user starts setting up two-factor
// authentication: imported at start-up, their code took ~0.4 MiB of V8's heap in every process for a rare path.
// Imported through this ES module, not as `import('qrcode')`: qrcode is CommonJS, and a dynamic import() of a
// CommonJS package in the split bundle yields only its `default` (see src/pubsub/redis-client.ts).
export { toString as qrCodeToString } from 'qrcode';
