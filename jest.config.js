/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages/constructs/test', '<rootDir>/packages/lab/test'],
  testMatch: ['**/*.test.ts'],
  // Type checking is done once by `npm run typecheck`; ts-jest only transpiles here.
  transform: { '^.+\\.ts$': 'ts-jest' },
  // Tests run the construct package from source, as tsconfig.json's paths do for the type check.
  moduleNameMapper: {
    '^canary-watchdog$': '<rootDir>/packages/constructs/src/index.ts',
    '^canary-watchdog/lib/(.*)$': '<rootDir>/packages/constructs/src/$1',
  },
  setupFiles: ['<rootDir>/packages/constructs/test/setup/env.js'],
  setupFilesAfterEnv: ['aws-sdk-client-mock-jest'],
};
