// /api/dead-letters: list, retry (redrive the saga) and discard.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SagaRuntime } from '../engine/saga-runtime.js';
import { deadLetterIdParams, parseParams } from './request-params.js';
import { sagaSummary } from './saga-views.js';

const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export function registerDeadLetterRoutes(app: FastifyInstance, runtime: SagaRuntime): void {
  app.get('/api/dead-letters', async (request) => {
    const { limit } = parseParams(listQuerySchema, request.query, 'query');
    return { items: await runtime.operations.listDeadLetters(limit) };
  });

  app.post('/api/dead-letters/:id/retry', async (request) => {
    const { id } = parseParams(deadLetterIdParams, request.params, 'path');
    const saga = await runtime.operations.retryDeadLetter(id);
    request.log.info({ deadLetter: id, sagaId: saga._id }, 'dead letter retried through the admin API');
    return sagaSummary(saga);
  });

  app.delete('/api/dead-letters/:id', async (request, reply) => {
    const { id } = parseParams(deadLetterIdParams, request.params, 'path');
    await runtime.operations.discardDeadLetter(id);
    request.log.info({ deadLetter: id }, 'dead letter discarded through the admin API');
    return reply.code(204).send();
  });
}
