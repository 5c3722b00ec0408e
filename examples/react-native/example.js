#!/usr/bin/env node
// A React Native-style session against a live Mobile API with promises and event
// subscriptions: init, registration, a refused save, setUserDataJwt, personalize, save,
// installation calls, depersonalize.
//
//   MMCORE_BIN=.build/debug/mmcore node examples/react-native/example.js \
//     --server-url http://127.0.0.1:8080 --application-code APP --kid KEY_ID --secret HEX_SECRET
//
// The application must use the JWT_ONLY setting. Prints one JSON line per step; exits 0
// only if every step behaved as the contract says.
'use strict';
const { createMobileMessaging } = require('./mobile-messaging.js');
const { exampleSession } = require('../node/example-support.js');

const session = exampleSession('rn');
const { options, token, expect } = session;

async function main() {
  const mobileMessaging = createMobileMessaging({ stateDir: session.stateDir });
  const registered = new Promise((resolve) => mobileMessaging.subscribe('registrationUpdated', resolve));
  const events = [];
  for (const name of ['userUpdated', 'personalized', 'depersonalized', 'installationUpdated']) {
    mobileMessaging.subscribe(name, () => events.push(name));
  }

  await mobileMessaging.init({ applicationCode: options['application-code'], backendBaseURL: options['server-url'] });
  const pushRegistrationId = await registered;
  expect('registrationUpdated', typeof pushRegistrationId === 'string', { pushRegistrationId });

  await mobileMessaging.saveUser({ firstName: 'Grace' }).then(
    (user) => expect('saveUser without a token', false, { user }),
    (error) => expect('saveUser without a token', error.code === 'ACCESS_TOKEN_MISSING' && error.httpStatus === 401, { error }),
  );

  await mobileMessaging.setUserDataJwt(token({ sub: 'grace' }));
  const personalized = await mobileMessaging.personalize({ userIdentity: { externalUserId: 'grace' }, userAttributes: { lastName: 'Hopper' } });
  expect('personalize', personalized.externalUserId === 'grace' && personalized.lastName === 'Hopper', { lastName: personalized.lastName });

  const saved = await mobileMessaging.saveUser({ firstName: 'Grace', emails: ['grace@example.com'] });
  expect('saveUser', saved.externalUserId === 'grace' && saved.emails.includes('grace@example.com'), { saved });

  await mobileMessaging.saveUser({ birthday: '9.12.1906' }).then(
    (user) => expect('saveUser with a bad birthday', false, { user }),
    (error) => expect('saveUser with a bad birthday', error.code === 'INVALID_PARAMS', { error }),
  );

  const installation = await mobileMessaging.saveInstallation({ deviceName: 'Grace\'s phone' });
  expect('saveInstallation', installation.deviceName === 'Grace\'s phone' && installation.pushRegistrationId === pushRegistrationId, {});

  const installations = await mobileMessaging.setInstallationAsPrimary(pushRegistrationId, true);
  expect('setInstallationAsPrimary', installations.some((i) => i.pushRegistrationId === pushRegistrationId && i.isPrimaryDevice === true), {});

  expect('depersonalize', (await mobileMessaging.depersonalize()) === 'success', {});
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const name of ['userUpdated', 'personalized', 'depersonalized', 'installationUpdated']) {
    expect(`event ${name}`, events.includes(name), {});
  }

  const status = await mobileMessaging.close();
  expect('mmcore exit', status === 0, { status });
}

setTimeout(() => { expect('timeout', false, {}); process.exit(1); }, 60000).unref();
main().then(
  () => session.exit(),
  (error) => { expect('unexpected failure', false, { error: error.code ? error : String(error) }); process.exit(1); },
);
