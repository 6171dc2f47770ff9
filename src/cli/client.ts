// The `syncord` command agents run where Perl is not installed (dist/client.js): hands a coordination verb to the
// workspace's daemon when one is running, and otherwise runs the whole CLI in this process, as dist/cli.js does.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { viaDaemon } from './daemonClient';

/** Runs the CLI here, as if this were dist/cli.js (or the compiled main.js beside the tests). */
function runLocally(): void {
  const bundled = path.join(__dirname, 'cli.js');
  require(fs.existsSync(bundled) ? bundled : path.join(__dirname, 'main.js'));
}

viaDaemon(process.argv.slice(2), runLocally);
