// A Cordova-style bridge over mmcore, for Node: `cordova.exec(success, error, service,
// action, args)` forwards `action` as the JSON-RPC method and `args` as its params by
// position, exactly what the plugin's native side receives on a device.
//
//   const cordova = createCordova({ mmcore, stateDir });
//   cordova.exec(onUser, onError, 'MobileMessagingCordova', 'saveUser', [{ firstName: 'Ada' }]);
//
// Two actions are the shim's own, as on a device they are the native side's:
// - `registerReceiver` (args `[eventNames]`): `success` is kept and called with
//   `[eventName, payload]` for every matching `event` notification, like the plugin's
//   keep-callback receiver;
// - `registerUserDataJwtProvider` (args `[]`): `success` is the provider, called with
//   `{reason, externalUserId}` whenever the core sends `requestUserDataJwt`; it returns a
//   token, null, or a promise of one.
// The error callback always receives `error.data`: {code, description, domain, ...}.
//
// On a device, the plugin's native side handles `setUserDataJwt` in place before it
// takes the next command (it only swaps the token supplier and answers nothing), so a
// call made right after it uses the new token. The shim keeps that order: calls made
// after a `setUserDataJwt` are written to mmcore once it has answered that one.
'use strict';
const { MMCoreTransport } = require('../node/mmcore-transport.js');

function createCordova(transportOptions) {
  const transport = new MMCoreTransport(transportOptions);
  let tokenSet = Promise.resolve();

  function exec(success, error, service, action, args) {
    const ok = success || (() => {});
    const fail = error || (() => {});
    if (action === 'registerReceiver') {
      const names = new Set(args[0] || []);
      transport.onEvent(({ eventName, payload }) => {
        if (names.size === 0 || names.has(eventName)) ok([eventName, payload]);
      });
      return;
    }
    if (action === 'registerUserDataJwtProvider') {
      transport.handleRequest('requestUserDataJwt', (params) => ok(params));
      return;
    }
    const answered = tokenSet.then(() => transport.call(action, args || []));
    if (action === 'setUserDataJwt') tokenSet = answered.catch(() => {});
    answered.then(
      (result) => ok(result),
      (failure) => fail(failure.data || { code: 'BRIDGE_ERROR', description: String(failure.message), domain: 'cordova-shim' }),
    );
  }

  return { exec, transport, close: () => transport.close() };
}

module.exports = { createCordova };
