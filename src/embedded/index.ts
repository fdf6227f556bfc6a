// Public entry of the embedded MongoDB-compatible server (dev/test backend; production uses real MongoDB).
export {
  EmbeddedMongoServer,
  startEmbeddedMongoServer,
  embeddedMongoOptionsSchema,
  type EmbeddedMongoOptions,
} from './embedded-mongo-server.js';
