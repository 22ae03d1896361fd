import { describe } from 'vitest';
import { redisEngine } from '../../src/redis/index.js';
import { describeEngineContract, freshId } from '../support/engine-contract.js';
import { describeRedis } from '../support/redis.js';
import { connectRedis, REDIS_LIBRARIES } from '../support/redis-clients.js';

describeRedis('redisEngine', (suite) => {
  describe.each(REDIS_LIBRARIES)('with %s', (library) => {
    describeEngineContract(`redisEngine (${library})`, async () => {
      const { client } = await connectRedis(library, suite.redis);
      return redisEngine({ client, prefix: freshId('contract') });
    });
  });
});
