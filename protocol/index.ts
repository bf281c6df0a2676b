export * from './batch.ts';
export * from './families/index.ts';
export * from './collector-config.ts';
