// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

/** The layers a process is built from; src/runtime, src/client and the CLI put them together. */
const ENGINE_LAYERS = [
  './src/engine',
  './src/trigger',
  './src/store',
  './src/queue',
  './src/model',
  './src/definition',
  './src/connections',
];

/** @opentelemetry/* are optional peers: only src/tracing (and the CLI's SDK start) import them, guarded. */
const OPENTELEMETRY_IMPORTS = {
  group: ['@opentelemetry/*'],
  message: 'trace through SagaTracing (src/tracing/saga-tracing.ts): @opentelemetry/api is an optional peer',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-artifacts/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    // The engine reports through the SagaMetrics interface (src/engine/saga-metrics.ts) and knows nothing of
    // Prometheus or of the processes that serve metrics (src/metrics, src/admin, src/cli).
    files: ['src/**/*.ts'],
    settings: {
      // Imports name the emitted `.js`; the resolver must find the `.ts` source to know the folder.
      'import-x/resolver-next': [importX.createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: ENGINE_LAYERS,
              from: ['./src/metrics', './src/admin', './src/cli'],
              message: 'the engine layers must not depend on the processes that serve them',
            },
            {
              // src/runtime puts a process together (runtime, roles, admin and metrics servers); nothing it
              // composes reaches back into it. Admin works on the narrow AdminBackend interface instead.
              target: [...ENGINE_LAYERS, './src/admin', './src/metrics'],
              from: ['./src/runtime', './src/client'],
              message: 'only the composition root (src/runtime) and the entry points put the layers together',
            },
            {
              target: ['./src/admin', './src/metrics', './src/runtime', './src/client'],
              from: './src/cli',
              message: 'the CLI is an entry point: nothing imports it',
            },
            {
              // The trigger starts sagas through the engine's SagaStarter; the engine never imports the trigger.
              target: ['./src/engine'],
              from: ['./src/trigger'],
              message: 'the engine must not depend on the trigger watcher (src/runtime wires them)',
            },
            {
              target: ['./src/store', './src/queue', './src/model', './src/definition'],
              from: ['./src/engine', './src/trigger'],
              message:
                'the model layers (definition, model, store, queue) must not depend on the engine or the trigger',
            },
            {
              // Connection options, health checks and states sit below everything that uses a connection.
              target: ['./src/connections'],
              from: ENGINE_LAYERS.filter((layer) => layer !== './src/connections'),
              message: 'src/connections depends on no layer that uses it (only on logging and errors)',
            },
            {
              // The shared model (saga document, job refs, pure derivations) is what store and queue build on.
              target: ['./src/model', './src/definition'],
              from: ['./src/store', './src/queue'],
              message: 'the shared model (src/model) and definitions depend on no store or queue',
            },
            {
              // Tracing is a leaf the engine calls through SagaTracing: it knows the saga model, not who calls it.
              target: ['./src/tracing'],
              from: [
                ...ENGINE_LAYERS.filter((layer) => layer !== './src/model'),
                './src/runtime',
                './src/client',
                './src/cli',
                './src/admin',
                './src/metrics',
              ],
              message:
                'src/tracing depends only on the saga model (and logging): the engine calls it, not the reverse',
            },
            {
              // The testing kit (sagastream/testing) is a user of the package, like a test: nothing depends on it.
              target: ['./src/!(testing)/**/*', './src/*.ts'],
              from: './src/testing',
              message:
                'nothing in src/ imports the testing kit; it is a separate entry point (sagastream/testing)',
            },
            {
              target: './src/testing',
              from: ['./src/cli', './src/admin', './src/metrics'],
              message:
                'the testing kit runs the engine in-process, without the CLI, admin or metrics servers',
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      'src/engine/**/*.ts',
      'src/trigger/**/*.ts',
      'src/store/**/*.ts',
      'src/queue/**/*.ts',
      'src/connections/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'prom-client',
              message: 'report through SagaMetrics (src/engine/saga-metrics.ts); src/metrics implements it',
            },
          ],
          patterns: [OPENTELEMETRY_IMPORTS],
        },
      ],
    },
  },
  {
    files: ['src/model/**/*.ts', 'src/definition/**/*.ts', 'src/runtime/**/*.ts', 'src/client/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [OPENTELEMETRY_IMPORTS] }],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
