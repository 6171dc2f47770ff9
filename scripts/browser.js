// Headless Debian Chromium driven by playwright-core, isolated in a folder of the run.
// Used by the integration runner, the e2e helpers (test/e2e/workbench.ts) and `npm start --screenshot`.
'use strict';

const fs = require('fs');
const path = require('path');

const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

function chromiumPath() {
  const fromEnv = process.env.SYNCORD_CHROMIUM;
  if (fromEnv) return fromEnv;
  const found = CHROMIUM_CANDIDATES.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(
      'Chromium is needed for the integration and end-to-end tests but was not found.\n' +
        '  Install it with:  sudo apt-get install -y chromium   (Debian/Ubuntu)\n' +
        '  or point SYNCORD_CHROMIUM at a Chromium binary.',
    );
  }
  return found;
}

/**
 * Launches Chromium with a fresh profile in `runDir/chromium` and returns the persistent context.
 * Chromium's own XDG_CONFIG_HOME (where it writes crash reports) is inside the run folder too.
 */
async function launchChromium({ runDir, viewport = { width: 1400, height: 900 } }) {
  const { chromium } = require('playwright-core');
  const profile = path.join(runDir, 'chromium', 'profile');
  const xdg = path.join(runDir, 'chromium', 'xdg-config');
  fs.mkdirSync(profile, { recursive: true });
  fs.mkdirSync(xdg, { recursive: true });
  return chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    viewport,
    env: { ...process.env, XDG_CONFIG_HOME: xdg, XDG_CACHE_HOME: path.join(runDir, 'chromium', 'xdg-cache') },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

module.exports = { launchChromium, chromiumPath };
