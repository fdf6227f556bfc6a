// /api/dead-letters: list (paginated), retry (redrive the saga, or release a stuck one) and discard.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AdminBackend } from './admin-backend.js';
import { deadLetterIdParams, parseParams } from './request-params.js';
import { sagaSummary } from './saga-views.js';

export const MAX_DEAD_LETTER_PAGE_SIZE = 1000;

const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_DEAD_LETTER_PAGE_SIZE).default(100),
  after: deadLetterIdParams.shape.id.optional(),
});

export function registerDeadLetterRoutes(app: FastifyInstance, backend: AdminBackend): void {
  // Newest saga first, like /api/sagas; `next` is the `after` of the following page (null on the last one).
  app.get('/api/dead-letters', async (request) => {
    const { limit, after } = parseParams(listQuerySchema, request.query, 'query');
    return backend.operations.deadLetterPage({ limit, ...(after === undefined ? {} : { after }) });
  });

  app.post('/api/dead-letters/:id/retry', async (request) => {
    const { id } = parseParams(deadLetterIdParams, request.params, 'path');
    const saga = await backend.operations.retryDeadLetter(id);
    request.log.info({ deadLetter: id, sagaId: saga._id }, 'dead letter retried through the admin API');
    return sagaSummary(saga);
  });

  app.delete('/api/dead-letters/:id', async (request, reply) => {
    const { id } = parseParams(deadLetterIdParams, request.params, 'path');
    await backend.operations.discardDeadLetter(id);
    request.log.info({ deadLetter: id }, 'dead letter discarded through the admin API');
    return reply.code(204).send();
  });
}
