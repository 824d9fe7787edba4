/** Three tiers: unit specs sit beside the code; integration and e2e tests live in test/. */
const tsJest = ['ts-jest', { tsconfig: { ...require('./tsconfig.json').compilerOptions, allowJs: true, isolatedModules: true } }];
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.[tj]s$': tsJest },
  // content-disposition (under @fastify/static, for the Swagger UI) ships ES modules only; jest needs CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
};

const CLUSTER = '/(e2e|chaos)/cluster[^/]*$';

module.exports = {
  // testTimeout is a global option: jest ignores it inside projects.
  testTimeout: 180000,
  projects: [
    { ...common, displayName: 'unit', rootDir: 'src', testRegex: '\\.spec\\.ts$' },
    { ...common, displayName: 'e2e', rootDir: 'test', testRegex: '(e2e|int|browser)/.*\\.(e2e|int|browser)-spec\\.ts$', testPathIgnorePatterns: ['/node_modules/', CLUSTER], globalSetup: '<rootDir>/support/global-setup.ts' },
    { ...common, displayName: 'chaos', rootDir: 'test', testRegex: 'chaos/.*\\.chaos-spec\\.ts$', testPathIgnorePatterns: ['/node_modules/', CLUSTER], globalSetup: '<rootDir>/support/global-setup.ts' },
    // Needs prometheus and promtool (scripts/prometheus.sh installs them): npm run test:observability.
    { ...common, displayName: 'observability', rootDir: 'test', testRegex: 'observability/.*\\.obs-spec\\.ts$', globalSetup: '<rootDir>/support/global-setup.ts' },
    // npm run test:cluster: tests that start Redis Clusters of their own (test/e2e/cluster*, test/chaos/cluster*).
    { ...common, displayName: 'cluster', rootDir: 'test', testRegex: '(e2e|chaos)/cluster[^/]*\\.(e2e|chaos)-spec\\.ts$', globalSetup: '<rootDir>/support/global-setup.ts' },
  ],
};
