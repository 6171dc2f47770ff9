/**
 * `npm run bench`: every benchmark of Syncord, each printing its numbers beside a reference tool
 * measured in the same run. Run one area with `npm run bench -- coordination` (or agents, scale, startup, targets, ui).
 */
import { runAgentsBench, runCoordinationBench } from './coordination';
import { runScaleBench } from './scale';
import { runStartupBench } from './startup';
import { runTargetsBench } from './targets';
import { runUiBench } from './ui';

const suites: Record<string, () => Promise<void>> = {
  coordination: runCoordinationBench,
  agents: runAgentsBench,
  scale: runScaleBench,
  startup: runStartupBench,
  targets: runTargetsBench,
  ui: runUiBench,
};

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  for (const [name, run] of Object.entries(suites)) {
    if (only.length && !only.includes(name)) continue;
    console.log(`\n=== ${name} ===`);
    await run();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
