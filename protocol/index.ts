export * from './batch.ts';
export * from './families/index.ts';
