/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Type checking is done once by `npm run typecheck`; ts-jest only transpiles here.
  transform: { '^.+\\.ts$': 'ts-jest' },
  setupFilesAfterEnv: ['aws-sdk-client-mock-jest'],
};
