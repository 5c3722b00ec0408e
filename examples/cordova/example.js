#!/usr/bin/env node
// A Cordova-style app session against a live Mobile API, in the Cordova plugin's callback API:
// init, the registration event, saveUser refused (error callback with error.data),
// an expired token caught on the device, then personalize and save with a token from
// the app's provider (or set by the app when the core does not ask a provider), and
// custom events: one of each property kind, a malformed one, one sent immediately.
//
//   MMCORE_BIN=.build/debug/mmcore node examples/cordova/example.js \
//     --server-url http://127.0.0.1:8080 --application-code APP --kid KEY_ID --secret HEX_SECRET
//
// The application must use the JWT_ONLY setting. Each step prints one JSON line; the exit
// status is 0 only if every step behaved as the contract says.
'use strict';
const { createCordova } = require('./cordova-shim.js');
const { MobileMessagingCordova } = require('./MobileMessagingCordova.js');
const { exampleSession } = require('../node/example-support.js');

const session = exampleSession('cordova');
const { options, token, report, expect } = session;
const cordova = createCordova({ stateDir: session.stateDir, onStderr: () => {} });
const mobileMessaging = new MobileMessagingCordova(cordova);

// Callback style, one step after another (each step ends by calling next()).
const steps = [];
const then = (step) => steps.push(step);
const next = () => { const step = steps.shift(); if (step) step(); else finish(); };

let providerGivesTokens = false;
const reasonsAsked = [];
mobileMessaging.setUserDataJwtProvider(({ reason, externalUserId }) => {
  reasonsAsked.push(reason);
  return providerGivesTokens ? token({ sub: externalUserId || 'ada' }) : null;
});

then(() => {
  mobileMessaging.register('registrationUpdated', (pushRegistrationId) => {
    expect('registrationUpdated', typeof pushRegistrationId === 'string' && pushRegistrationId.length > 0, { pushRegistrationId });
    next();
  });
  mobileMessaging.init(
    { applicationCode: options['application-code'], backendBaseURL: options['server-url'], userDataJwtProvider: true },
    () => report('init', { ok: true }),
    (error) => { expect('init', false, { error }); finish(); },
  );
});
then(() => mobileMessaging.saveUser({ firstName: 'Ada' },
  (user) => { expect('saveUser without a token', false, { user }); next(); },
  (error) => { expect('saveUser without a token', error.code === 'ACCESS_TOKEN_MISSING', { error }); next(); }));
// setUserDataJwt has no success callback (as in the plugin): the token applies to the
// calls made after it, so the next call follows at once.
const setUserDataJwtFailed = (error) => expect('setUserDataJwt', false, { error });
then(() => {
  mobileMessaging.setUserDataJwt(token({ lifetime: -60 }), setUserDataJwtFailed);
  mobileMessaging.saveUser({ firstName: 'Ada' },
    (user) => { expect('saveUser with an expired token', false, { user }); next(); },
    (error) => { expect('saveUser with an expired token', error.code === 'JWT_TOKEN_EXPIRED' && error.domain === 'com.mobile-messaging', { error }); next(); });
});
then(() => {
  providerGivesTokens = true;
  mobileMessaging.setUserDataJwt(null, setUserDataJwtFailed);
  next();
});
// The provider now has tokens. A core that asks it (userDataJwtProvider) gets one for
// personalize; one that does not refuses with ACCESS_TOKEN_MISSING, and the app then
// sets the token itself and tries again: the callback-style fallback apps use today.
let tokenVia = 'provider';
then(() => {
  const personalize = (retry) => mobileMessaging.personalize({ userIdentity: { externalUserId: 'ada' } },
    (user) => { expect('personalize', user.externalUserId === 'ada' && user.type === 'CUSTOMER', { tokenVia, type: user.type }); next(); },
    (error) => {
      if (error.code !== 'ACCESS_TOKEN_MISSING' || !retry) { expect('personalize', false, { error }); next(); return; }
      tokenVia = 'setUserDataJwt';
      mobileMessaging.setUserDataJwt(token(), setUserDataJwtFailed);
      personalize(false);
    });
  personalize(true);
});
then(() => {
  mobileMessaging.register('userUpdated', (user) => report('userUpdated event', { lastName: user.lastName }));
  mobileMessaging.saveUser({ lastName: 'Lovelace', emails: ['ada@example.com'] },
    (user) => { expect('saveUser', user.externalUserId === 'ada' && user.lastName === 'Lovelace', { user }); next(); },
    (error) => { expect('saveUser', false, { error }); next(); });
});
then(() => mobileMessaging.fetchUser(
  (user) => { expect('fetchUser', user.lastName === 'Lovelace' && user.emails[0] === 'ada@example.com', { lastName: user.lastName }); next(); },
  (error) => { expect('fetchUser', false, { error }); next(); }));
then(() => mobileMessaging.saveUser({ birthday: '10.12.1815' },
  (user) => { expect('saveUser with a bad birthday', false, { user }); next(); },
  (error) => { expect('saveUser with a bad birthday', error.code === 'INVALID_PARAMS' && error.field === 'userData.birthday', { error }); next(); }));
then(() => mobileMessaging.getUser(
  (user) => { expect('getUser', user.externalUserId === 'ada' && user.lastName === 'Lovelace', { lastName: user.lastName }); next(); },
  (error) => { expect('getUser', false, { error }); next(); }));
// The inbox: its own token, for one person, used for that call only.
then(() => mobileMessaging.fetchInboxMessages(token({ sub: 'bob' }), 'ada', null,
  (inbox) => { expect('fetchInboxMessages with bob\'s token', false, { inbox }); next(); },
  (error) => { expect('fetchInboxMessages with bob\'s token', error.code === 'JWT_TOKEN_SUBJECT_MISMATCH', { error }); next(); }));
let inboxMessageIds = [];
then(() => mobileMessaging.fetchInboxMessages(token(), 'ada', { topics: ['promotions', 'news'], limit: 10 },
  (inbox) => {
    inboxMessageIds = inbox.messages.filter((message) => !message.seen).map((message) => message.messageId);
    expect('fetchInboxMessages', Number.isInteger(inbox.countTotal) && Number.isInteger(inbox.countTotalFiltered),
      { countTotal: inbox.countTotal, countTotalFiltered: inbox.countTotalFiltered });
    next();
  },
  (error) => { expect('fetchInboxMessages', false, { error }); next(); }));
then(() => mobileMessaging.fetchInboxMessagesWithoutToken('ada', null,
  (inbox) => { expect('fetchInboxMessagesWithoutToken under JWT_ONLY', false, { inbox }); next(); },
  (error) => { expect('fetchInboxMessagesWithoutToken under JWT_ONLY', error.code === 'ACCESS_TOKEN_MISSING', { error }); next(); }));
then(() => mobileMessaging.setInboxMessagesSeen('ada', [],
  (messageIds) => { expect('setInboxMessagesSeen with no ids', false, { messageIds }); next(); },
  (error) => { expect('setInboxMessagesSeen with no ids', error.code === 'INVALID_PARAMS' && error.field === 'messageIds', { error }); next(); }));
then(() => {
  if (inboxMessageIds.length === 0) { next(); return; }
  mobileMessaging.setInboxMessagesSeen('ada', inboxMessageIds,
    (messageIds) => { expect('setInboxMessagesSeen', messageIds.length === inboxMessageIds.length, { messageIds }); next(); },
    (error) => { expect('setInboxMessagesSeen', false, { error }); next(); });
});
// Custom events: submitEvent answers once the event is on the device (sent later in a batch).
then(() => {
  mobileMessaging.submitEvent({
    definitionId: 'purchase',
    properties: {
      item: 'book', price: 12.5, gift: true, deliveredOn: '2024-03-01', paidAt: '2020-02-26T09:41:57Z',
      lines: [{ sku: 'b-1', count: 1 }, { sku: 'b-2', count: 2 }],
    },
  }, (error) => expect('submitEvent', false, { error }));
  report('submitEvent', { ok: true });
  mobileMessaging.submitEvent({ definitionId: ' ' },
    (error) => { expect('submitEvent with a blank definitionId', error.code === 'INVALID_PARAMS' && error.field === 'event.definitionId', { error }); next(); });
});
// The server validates an immediate event: an unknown definition is its refusal, with its status.
then(() => mobileMessaging.submitEventImmediately({ definitionId: 'no-such-definition' },
  () => { expect('submitEventImmediately of an unknown definition', false, {}); next(); },
  (error) => { expect('submitEventImmediately of an unknown definition', typeof error.code === 'string' && error.httpStatus >= 400, { error }); next(); }));

function finish() {
  report('provider asked', { reasonsAsked });
  cordova.close().then((status) => {
    expect('mmcore exit', status === 0, { status });
    session.exit();
  });
}

setTimeout(() => { expect('timeout', false, { remainingSteps: steps.length }); process.exit(1); }, 60000).unref();
next();
