export * from '../common/errors.js';
export * from '../protocol/close-codes.js';
