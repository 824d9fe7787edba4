import { HeraldEnv, HeraldProcess, testEnvironment } from './herald';
import { TestReceiver } from './receiver';

export interface ProcessSuite {
  env: HeraldEnv;
  receiver: TestReceiver;
  /** Every process spawned for the suite: killed after it. */
  processes: HeraldProcess[];
}

/**
 * For suites that run Herald as separate processes (dist/main.js): one test environment and one receiver for the
 * suite, made before its tests and torn down after them with every process the tests pushed.
 */
export function heraldProcesses(): ProcessSuite {
  const suite = { processes: [] } as unknown as ProcessSuite;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ env: suite.env, dispose } = await testEnvironment());
    suite.receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await Promise.all(suite.processes.map((p) => p.stop('SIGKILL')));
    await suite.receiver?.close();
    await dispose?.();
  });
  return suite;
}
