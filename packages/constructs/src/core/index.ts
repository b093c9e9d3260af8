/** The pure decision core: no AWS SDK, no clock of its own. */
export * from './types';
export * from './stats';
export * from './signals';
export * from './evaluate';
export * from './rollout';
export * from './config';
export * from './config-checks';
export * from './probes';
export * from './observe';
export * from './appspec';
export * from './decision-record';
export { InputError } from './validate';
