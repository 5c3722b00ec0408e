// A React Native-style promise API over mmcore, for Node (same transport as the Cordova
// shim). Every method returns a promise; a failure rejects it with error.data,
// {code, description, domain, ...}, as the React Native plugin does.
//
//   const mobileMessaging = createMobileMessaging({ mmcore, stateDir });
//   const subscription = mobileMessaging.subscribe('userUpdated', (user) => ...);
//   await mobileMessaging.init({ applicationCode, backendBaseURL });
//   mobileMessaging.saveUser({ firstName: 'Ada' }).then((user) => ..., (error) => error.code);
//   subscription.remove();
'use strict';
const { MMCoreTransport } = require('../node/mmcore-transport.js');

// The contract's methods and their positional parameters (schema/openrpc.json).
const METHODS = {
  init: ['configuration'],
  setUserDataJwt: ['jwt'],
  saveUser: ['userData'],
  fetchUser: [],
  getUser: [],
  personalize: ['context'],
  depersonalize: [],
  saveInstallation: ['installation'],
  fetchInstallation: [],
  getInstallation: [],
  setInstallationAsPrimary: ['pushRegistrationId', 'primary'],
  depersonalizeInstallation: ['pushRegistrationId'],
  cleanup: [],
};

function createMobileMessaging(transportOptions) {
  const transport = new MMCoreTransport(transportOptions);
  const listeners = new Map();
  transport.onEvent(({ eventName, payload }) => {
    for (const handler of listeners.get(eventName) || []) handler(payload);
  });

  const api = {
    /** `handler(payload)` for each event called `eventName`; returns {remove()} like an EmitterSubscription. */
    subscribe(eventName, handler) {
      if (!listeners.has(eventName)) listeners.set(eventName, new Set());
      listeners.get(eventName).add(handler);
      return { remove: () => listeners.get(eventName).delete(handler) };
    },
    /** `provider({reason, externalUserId})` resolves to a token or null (needs userDataJwtProvider: true). */
    setUserDataJwtProvider(provider) {
      transport.handleRequest('requestUserDataJwt', provider);
    },
    /** Ends the core (it persists its state and exits); resolves with its exit status. */
    close: () => transport.close(),
  };
  for (const [method, params] of Object.entries(METHODS)) {
    api[method] = (...args) =>
      transport.call(method, args.slice(0, params.length)).catch((error) => Promise.reject(error.data || error));
  }
  return api;
}

module.exports = { createMobileMessaging, METHODS };
