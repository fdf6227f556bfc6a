// /api/sagas: start one from code, list (newest first by `createdAt`, then `_id`; a saga id is the cursor), one
// saga with its timeline, cancel, retry, send a signal.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AdminBackend } from './admin-backend.js';
import { ValidationError } from '../errors/index.js';
import { NAME_RULE, NAME_SHAPE } from '../definition/index.js';
import { SAGA_STATUSES } from '../model/saga-document.js';
import { AdminHttpError } from './admin-http-error.js';
import { parseParams, sagaIdParams } from './request-params.js';
import { sagaDetail, sagaSummary } from './saga-views.js';
import { scheduledJobViews } from './scheduled-job-view.js';

export const MAX_PAGE_SIZE = 200;

const listQuerySchema = z.strictObject({
  saga: z.string().min(1).max(200).optional(),
  status: z.enum(SAGA_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  after: sagaIdParams.shape.id.optional(),
});

const startBodySchema = z.strictObject({
  saga: z.string().min(1).max(200),
  input: z.unknown(),
  key: z.string().min(1).max(1_000).optional(),
});

const signalParams = sagaIdParams.extend({
  name: z.string().regex(NAME_SHAPE, { message: `must be ${NAME_RULE}` }),
});

const signalBodySchema = z.strictObject({ data: z.unknown().optional() });

export function registerSagaRoutes(app: FastifyInstance, backend: AdminBackend): void {
  // 201 for a new saga, 200 with the same shape when the key already had one; 400 naming the input's issues.
  app.post('/api/sagas', async (request, reply) => {
    const body = parseParams(startBodySchema, request.body, 'body');
    try {
      const { saga, created } = await backend.operations.start(body.saga, body.input, body.key);
      if (created)
        request.log.info({ sagaId: saga._id, saga: saga.saga }, 'saga started through the admin API');
      return await reply
        .code(created ? 201 : 200)
        .send({ id: saga._id, saga: saga.saga, key: saga.key, status: saga.status });
    } catch (error) {
      if (error instanceof ValidationError) {
        return reply.code(400).send({
          error: { code: error.code, message: error.message, issues: error.issues },
        });
      }
      throw error;
    }
  });

  app.get('/api/sagas', async (request) => {
    const query = parseParams(listQuerySchema, request.query, 'query');
    // The cursor is the last saga's id; its creation time places the next page (ids are not time-ordered).
    const after = query.after === undefined ? undefined : await backend.store.listCursor(query.after);
    if (after === null) {
      throw new AdminHttpError(
        'BAD_REQUEST',
        `query parameter after: saga ${query.after} no longer exists (expired or removed); list from the first page`,
      );
    }
    const sagas = await backend.store.list({
      limit: query.limit,
      ...(query.saga === undefined ? {} : { saga: query.saga }),
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(after === undefined ? {} : { after }),
    });
    const items = sagas.map(sagaSummary);
    const last = items[items.length - 1];
    return { items, next: items.length === query.limit && last ? last.id : null };
  });

  app.get('/api/sagas/:id', async (request) => {
    const { id } = parseParams(sagaIdParams, request.params, 'path');
    const saga = await backend.store.get(id);
    if (!saga) throw new AdminHttpError('NOT_FOUND', `saga ${id} does not exist`);
    return sagaDetail(saga, await scheduledJobViews(backend.queues, saga));
  });

  app.post('/api/sagas/:id/cancel', async (request) => {
    const { id } = parseParams(sagaIdParams, request.params, 'path');
    const saga = await backend.operations.cancel(id);
    request.log.info({ sagaId: id }, 'saga cancelled through the admin API');
    return sagaSummary(saga);
  });

  // 202: the signal is stored; the saga's wait for it ends now, or when the saga reaches that step.
  app.post('/api/sagas/:id/signals/:name', async (request, reply) => {
    const { id, name } = parseParams(signalParams, request.params, 'path');
    const body = parseParams(signalBodySchema, request.body ?? {}, 'body');
    const { signalId } = await backend.operations.signal(id, name, body.data);
    request.log.info({ sagaId: id, signal: name }, 'signal sent through the admin API');
    return reply.code(202).send({ sagaId: id, signal: name, signalId });
  });

  app.post('/api/sagas/:id/retry', async (request) => {
    const { id } = parseParams(sagaIdParams, request.params, 'path');
    const saga = await backend.operations.retry(id);
    request.log.info({ sagaId: id }, 'saga retried through the admin API');
    return sagaSummary(saga);
  });
}
