import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/index.js';
import type { DurationInput } from '../../../src/definition/duration.js';
import { DefinitionStore, definitionRecordId } from '../../../src/store/definition-store.js';
import { SagastreamError } from '../../../src/errors/index.js';
import { connectMongo, uniqueName } from '../helpers.js';

let client: MongoClient;
beforeAll(async () => {
  client = await connectMongo();
});
afterAll(() => client.close());

function order(options: { version?: number; secondStep?: string; timeout?: DurationInput } = {}) {
  return defineSaga({
    name: 'order',
    ...(options.version === undefined ? {} : { version: options.version }),
    input: z.object({ id: z.string() }),
  })
    .step({ name: 'reserve', timeout: options.timeout ?? '2s', run: () => Promise.resolve({}) })
    .step({ name: options.secondStep ?? 'charge', run: () => Promise.resolve({}) })
    .build();
}

describe('DefinitionStore', () => {
  it('records a version the first time and refuses a changed shape under the same version, naming what changed', async () => {
    const store = new DefinitionStore(client.db(uniqueName('definitions')));
    await store.check([order()], { enforce: true });
    await store.check([order()], { enforce: true });

    const changed = store.check([order({ secondStep: 'pay', timeout: '5s' })], { enforce: true });
    await expect(changed).rejects.toBeInstanceOf(SagastreamError);
    await expect(changed).rejects.toMatchObject({ code: 'DEFINITION_CHANGED' });
    await expect(changed).rejects.toThrow(/saga "order" v1 changed shape/);
    await expect(changed).rejects.toThrow(/version 2 \(bump `version`\)/);
    const message = await changed.catch((error: Error) => error.message);
    expect(message).toContain('reserve');
    expect(message).toContain('charge');

    // The stored shape stays the first one; a new version is recorded beside it.
    await store.check([order({ version: 2, secondStep: 'pay' })], { enforce: true });
    expect((await store.list()).map(({ saga, version }) => `${saga}@${version}`)).toEqual([
      'order@1',
      'order@2',
    ]);
    await store.check([order()], { enforce: true });
  });

  it('without enforcement (sagastream dev) accepts the edit and records the new shape', async () => {
    const store = new DefinitionStore(client.db(uniqueName('definitions-dev')));
    await store.check([order()], { enforce: true });
    await store.check([order({ secondStep: 'pay' })], { enforce: false });
    const record = await store.collection.findOne({ _id: definitionRecordId('order', 1) });
    expect(JSON.stringify(record?.shape)).toContain('pay');
    // The edited shape is now the recorded one: an enforcing start with it passes, the old one is refused.
    await store.check([order({ secondStep: 'pay' })], { enforce: true });
    await expect(store.check([order()], { enforce: true })).rejects.toMatchObject({
      code: 'DEFINITION_CHANGED',
    });
  });
});
