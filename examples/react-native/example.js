#!/usr/bin/env node
// A React Native-style session against a live Mobile API, written against the React
// Native plugin's callback API and event subscriptions: init, registration, a refused
// save, setUserDataJwt, personalize, save, installation calls, custom events (one of
// each property kind, a malformed one, one sent immediately), depersonalize (which sends
// the held events first, so they count for the person who made them).
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
const mobileMessaging = createMobileMessaging({ stateDir: session.stateDir });

// The steps run one after another: each ends by calling next() from its callback.
const steps = [];
const then = (step) => steps.push(step);
const next = () => { const step = steps.shift(); if (step) step(); else finish(); };
const failed = (name) => (error) => { expect(name, false, { error }); next(); };

const events = [];
for (const name of ['userUpdated', 'personalized', 'depersonalized', 'installationUpdated']) {
  mobileMessaging.subscribe(name, () => events.push(name));
}

let pushRegistrationId;
then(() => {
  // Handlers get what the plugin's event emitter sends: an array holding the payload.
  const subscription = mobileMessaging.subscribe('registrationUpdated', ([id]) => {
    mobileMessaging.unsubscribe(subscription);
    pushRegistrationId = id;
    expect('registrationUpdated', typeof id === 'string' && id.length > 0, { pushRegistrationId: id });
    next();
  });
  mobileMessaging.init({ applicationCode: options['application-code'], backendBaseURL: options['server-url'] },
    () => {}, (error) => { expect('init', false, { error }); finish(); });
});
then(() => mobileMessaging.saveUser({ firstName: 'Grace' },
  (user) => { expect('saveUser without a token', false, { user }); next(); },
  (error) => { expect('saveUser without a token', error.code === 'ACCESS_TOKEN_MISSING' && error.httpStatus === 401, { error }); next(); }));
then(() => mobileMessaging.setUserDataJwt(token({ sub: 'grace' }), () => next(), failed('setUserDataJwt')));
then(() => mobileMessaging.personalize({ userIdentity: { externalUserId: 'grace' }, userAttributes: { lastName: 'Hopper' } },
  (user) => { expect('personalize', user.externalUserId === 'grace' && user.lastName === 'Hopper', { lastName: user.lastName }); next(); },
  failed('personalize')));
then(() => mobileMessaging.saveUser({ firstName: 'Grace', emails: ['grace@example.com'] },
  (user) => { expect('saveUser', user.externalUserId === 'grace' && user.emails.includes('grace@example.com'), { user }); next(); },
  failed('saveUser')));
then(() => mobileMessaging.getUser((user) => {
  expect('getUser', user.firstName === 'Grace' && user.lastName === 'Hopper', { firstName: user.firstName });
  next();
}));
then(() => mobileMessaging.saveUser({ birthday: '9.12.1906' },
  (user) => { expect('saveUser with a bad birthday', false, { user }); next(); },
  (error) => { expect('saveUser with a bad birthday', error.code === 'INVALID_PARAMS', { error }); next(); }));
then(() => mobileMessaging.saveInstallation({ deviceName: 'Grace\'s phone' },
  (installation) => {
    expect('saveInstallation', installation.deviceName === 'Grace\'s phone' && installation.pushRegistrationId === pushRegistrationId, {});
    next();
  },
  failed('saveInstallation')));
then(() => mobileMessaging.getInstallation((installation) => {
  expect('getInstallation', installation.deviceName === 'Grace\'s phone' && typeof installation.isPrimaryDevice === 'boolean',
    { isPrimaryDevice: installation.isPrimaryDevice });
  next();
}));
then(() => mobileMessaging.setInstallationAsPrimary(pushRegistrationId, true,
  (installations) => {
    expect('setInstallationAsPrimary', installations.some((i) => i.pushRegistrationId === pushRegistrationId && i.isPrimaryDevice === true), {});
    next();
  },
  failed('setInstallationAsPrimary')));
// The inbox token is grace's for her inbox only; the user-data JWT above stays in force.
then(() => mobileMessaging.fetchInboxMessages(token({ sub: 'grace', lifetime: -60 }), 'grace', {},
  (inbox) => { expect('fetchInboxMessages with an expired token', false, { inbox }); next(); },
  (error) => { expect('fetchInboxMessages with an expired token', error.code === 'JWT_TOKEN_EXPIRED', { error }); next(); }));
then(() => mobileMessaging.fetchInboxMessages(token({ sub: 'grace' }), 'grace', { fromDateTime: '2024-03-11T12:00:00+01:00', limit: 5 },
  (inbox) => {
    expect('fetchInboxMessages', Number.isInteger(inbox.countUnread) && Array.isArray(inbox.messages), { countUnread: inbox.countUnread });
    const unseen = inbox.messages.filter((message) => !message.seen).map((message) => message.messageId);
    if (unseen.length === 0) { next(); return; }
    mobileMessaging.setInboxMessagesSeen('grace', unseen,
      (messageIds) => { expect('setInboxMessagesSeen', messageIds.length === unseen.length, { messageIds }); next(); },
      failed('setInboxMessagesSeen'));
  },
  failed('fetchInboxMessages')));
then(() => mobileMessaging.fetchInboxMessages(token({ sub: 'grace' }), 'grace', { topic: 'a', topics: ['b'] },
  (inbox) => { expect('fetchInboxMessages with topic and topics', false, { inbox }); next(); },
  (error) => { expect('fetchInboxMessages with topic and topics', error.code === 'INVALID_PARAMS' && error.field === 'filterOptions', { error }); next(); }));
then(() => {
  mobileMessaging.submitEvent({
    definitionId: 'purchase',
    properties: {
      item: 'book', price: 12.5, gift: true, deliveredOn: '2024-03-01', paidAt: '2020-02-26T09:41:57Z',
      lines: [{ sku: 'b-1', count: 1 }],
    },
  }, failed('submitEvent'));
  mobileMessaging.submitEvent({ definitionId: 'purchase', properties: { coupon: null } },
    (error) => { expect('submitEvent with a null property', error.code === 'INVALID_PARAMS' && error.field === 'event.properties.coupon', { error }); next(); });
});
then(() => mobileMessaging.submitEventImmediately({ definitionId: 'no-such-definition' },
  () => { expect('submitEventImmediately of an unknown definition', false, {}); next(); },
  (error) => { expect('submitEventImmediately of an unknown definition', typeof error.code === 'string' && error.httpStatus >= 400, { error }); next(); }));
then(() => mobileMessaging.depersonalize(
  (status) => { expect('depersonalize', status === 'success', { status }); setTimeout(next, 200); },
  failed('depersonalize')));

function finish() {
  for (const name of ['userUpdated', 'personalized', 'depersonalized', 'installationUpdated']) {
    expect(`event ${name}`, events.includes(name), {});
  }
  mobileMessaging.close().then((status) => {
    expect('mmcore exit', status === 0, { status });
    session.exit();
  });
}

setTimeout(() => { expect('timeout', false, { remainingSteps: steps.length }); process.exit(1); }, 60000).unref();
next();
