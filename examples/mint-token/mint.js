#!/usr/bin/env node
// Mint a user-data JWT the way an app's backend does, with Node's standard library only.
//
//   node mint.js --kid KEY_ID --secret HEX_SECRET --application-code APP_CODE --sub EXTERNAL_USER_ID [--lifetime 60]
//
// The key id and hex secret come from the application profile (mmserver's admin API or
// configuration page). The token is printed on stdout; keep it out of logs.
// `require('./mint.js').mint({kid, secret, applicationCode, sub, lifetime})` does the same
// from code (the wrapper examples' token providers use it).
'use strict';
const crypto = require('node:crypto');

function parseArguments(argv) {
  const options = { lifetime: '60' };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i];
    const value = argv[i + 1];
    if (!name.startsWith('--') || value === undefined) {
      throw new Error(`expected --name value pairs, got ${name}`);
    }
    options[name.slice(2)] = value;
  }
  for (const required of ['kid', 'secret', 'application-code', 'sub']) {
    if (!options[required]) throw new Error(`--${required} is required`);
  }
  if (!/^([0-9a-fA-F]{2})+$/.test(options.secret)) throw new Error('--secret must be hex');
  if (!/^-?\d+$/.test(options.lifetime)) throw new Error('--lifetime must be an integer number of seconds');
  return options;
}

const base64url = (data) => Buffer.from(data).toString('base64url');

function mint({ kid, secret, applicationCode, sub, lifetime }) {
  const iat = Math.floor(Date.now() / 1000);
  const header = { alg: 'HS256', typ: 'JWT', kid };
  const claims = {
    typ: 'Bearer',
    sub,
    'infobip-api-key': applicationCode,
    iss: applicationCode,
    iat,
    exp: iat + lifetime,
    jti: crypto.randomUUID(),
  };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  // The HMAC key is the secret's bytes (hex-decoded), not its text.
  const signature = crypto.createHmac('sha256', Buffer.from(secret, 'hex')).update(input).digest();
  return `${input}.${base64url(signature)}`;
}

module.exports = { mint };
if (require.main !== module) return;

try {
  const options = parseArguments(process.argv.slice(2));
  console.log(mint({
    kid: options.kid,
    secret: options.secret,
    applicationCode: options['application-code'],
    sub: options.sub,
    lifetime: Number.parseInt(options.lifetime, 10),
  }));
} catch (error) {
  console.error(`mint.js: ${error.message}`);
  process.exit(2);
}
