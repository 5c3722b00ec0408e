'use strict';
// What the Node examples share: their command line, minting tokens as the app's backend
// would, a private state directory, and the one-JSON-line-per-step report whose last
// word is the exit status.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { mint } = require('../mint-token/mint.js');

/**
 * Reads `--server-url --application-code --kid --secret` (all required) from argv.
 * @param {string} name short name of the example, for its state directory and messages
 */
function exampleSession(name, argv = process.argv) {
  const options = {};
  for (let i = 2; i < argv.length; i += 2) options[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const required of ['server-url', 'application-code', 'kid', 'secret']) {
    if (!options[required]) { console.error(`${name} example: --${required} is required`); process.exit(2); }
  }
  let failed = false;
  const report = (step, value) => console.log(JSON.stringify({ step, ...value }));
  return {
    options,
    /** A token for `sub` living `lifetime` seconds (negative: already expired). */
    token: ({ sub = 'ada', lifetime = 300 } = {}) =>
      mint({ kid: options.kid, secret: options.secret, applicationCode: options['application-code'], sub, lifetime }),
    stateDir: fs.mkdtempSync(path.join(os.tmpdir(), `mmcore-${name}-`)),
    report,
    /** Reports a step; a false `condition` makes the example exit 1 at the end. */
    expect: (step, condition, value) => { if (!condition) failed = true; report(step, { ok: condition, ...value }); },
    /** Removes the state directory and exits 0, or 1 if any step failed. */
    exit() {
      fs.rmSync(this.stateDir, { recursive: true, force: true });
      process.exit(failed ? 1 : 0);
    },
  };
}

module.exports = { exampleSession };
