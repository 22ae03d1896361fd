import { describe, expect, it } from 'vitest';
import { prepareMessage } from '../../src/server/client/outgoing-message.js';
import { MemoryEngine, memoryEngine } from '../../src/server/engine/memory-engine.js';
import { describeEngineContract, RecordingHost, SETTINGS } from '../support/engine-contract.js';

describeEngineContract('memoryEngine()', () => memoryEngine());

describe('MemoryEngine', () => {
  it('delivers synchronously inside publish(): the hot path costs no promise', () => {
    const engine = new MemoryEngine();
    const host = new RecordingHost();
    engine.attach(host, SETTINGS);
    host.ids.add('a');
    engine.publish(prepareMessage('now'), { kind: 'all' }, false);
    expect(host.textsOf('a')).toEqual(['now']);
  });

  it('logs nothing while no session exists: plain clients have nothing to resume', () => {
    const engine = new MemoryEngine();
    const host = new RecordingHost();
    engine.attach(host, SETTINGS);
    host.ids.add('plain');
    const message = prepareMessage('x');
    engine.publish(message, { kind: 'all' }, false);
    expect(message.offset).toBeUndefined();
    expect(engine.position).toBe(0);
  });

  it('refuses to be used before it is attached', () => {
    expect(() => new MemoryEngine().position).toThrow(/not attached/);
  });
});
