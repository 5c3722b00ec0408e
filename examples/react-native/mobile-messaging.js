// A React Native-style face over mmcore, for Node (same transport as the Cordova shim),
// with the React Native plugin's own API: callbacks, not promises, as in the plugin's
// src/index.js (infobip/mobile-messaging-react-native-plugin).
//
//   const mobileMessaging = createMobileMessaging({ mmcore, stateDir });
//   const subscription = mobileMessaging.subscribe('userUpdated', ([user]) => ...);
//   mobileMessaging.init({ applicationCode, backendBaseURL }, () => ..., (error) => ...);
//   mobileMessaging.saveUser({ firstName: 'Ada' }, (user) => ..., (error) => error.code);
//   mobileMessaging.getUser((user) => ...);               // local copy, no error callback
//   mobileMessaging.setUserDataJwt(jwt, () => ..., (error) => ...);
//   mobileMessaging.unsubscribe(subscription);
//
// As in the plugin, a handler receives what the native event emitter sends: an array
// holding the payload (`[user]`, `[pushRegistrationId]`). Error callbacks receive
// error.data, {code, description, domain, ...}, where the plugin passes its
// {code, description, domain}.
//
// Two members are not the plugin's: setUserDataJwtProvider(provider) answers the core's
// requestUserDataJwt (the opt-in userDataJwtProvider), and close() ends the core.
'use strict';
const { MMCoreTransport } = require('../node/mmcore-transport.js');

const noop = () => {};

function createMobileMessaging(transportOptions) {
  const transport = new MMCoreTransport(transportOptions);
  const listeners = new Map();
  transport.onEvent(({ eventName, payload }) => {
    for (const handler of listeners.get(eventName) || []) handler([payload]);
  });

  // One JSON-RPC call per method; positional params in the plugin's argument order.
  const call = (method, params, onSuccess, onError) => {
    transport.call(method, params).then(
      (result) => onSuccess(result),
      (error) => onError(error.data || error),
    );
  };
  // getUser and getInstallation have no error callback in the plugin (the native side
  // always answers); a failure here is only logged.
  const logged = (method) => (error) => console.error(`[mobile-messaging] ${method} failed:`, error);

  return {
    /** `handler([payload])` for each event called `eventName`; returns a subscription with remove(). */
    subscribe(eventName, handler) {
      if (!listeners.has(eventName)) listeners.set(eventName, new Set());
      listeners.get(eventName).add(handler);
      return { remove: () => listeners.get(eventName).delete(handler) };
    },
    unsubscribe(subscription) { subscription.remove(); },
    unregisterAllHandlers(eventName) { listeners.delete(eventName); },

    init(config, onSuccess = noop, onError = noop) {
      if (!config.applicationCode) { onError('No application code provided'); return; }
      call('init', [config], onSuccess, onError);
    },
    saveUser(userData, onSuccess = noop, onError = noop) { call('saveUser', [userData], onSuccess, onError); },
    fetchUser(onSuccess, onError = noop) { call('fetchUser', [], onSuccess, onError); },
    getUser(onSuccess) { call('getUser', [], onSuccess, logged('getUser')); },
    saveInstallation(installation, onSuccess = noop, onError = noop) { call('saveInstallation', [installation], onSuccess, onError); },
    fetchInstallation(onSuccess, onError = noop) { call('fetchInstallation', [], onSuccess, onError); },
    getInstallation(onSuccess) { call('getInstallation', [], onSuccess, logged('getInstallation')); },
    setInstallationAsPrimary(pushRegistrationId, primary, onSuccess = noop, onError = noop) {
      call('setInstallationAsPrimary', [pushRegistrationId, primary], onSuccess, onError);
    },
    personalize(context, onSuccess = noop, onError = noop) { call('personalize', [context], onSuccess, onError); },
    depersonalize(onSuccess = noop, onError = noop) { call('depersonalize', [], onSuccess, onError); },
    depersonalizeInstallation(pushRegistrationId, onSuccess = noop, onError = noop) {
      call('depersonalizeInstallation', [pushRegistrationId], onSuccess, onError);
    },
    cleanup(onSuccess = noop, onError = noop) { call('cleanup', [], onSuccess, onError); },
    setUserDataJwt(jwt, onSuccess = noop, onError = noop) { call('setUserDataJwt', [jwt], onSuccess, onError); },
    fetchInboxMessages(token, externalUserId, filterOptions, onSuccess = noop, onError = noop) {
      call('fetchInboxMessages', [token, externalUserId, filterOptions], onSuccess, onError);
    },
    fetchInboxMessagesWithoutToken(externalUserId, filterOptions, onSuccess = noop, onError = noop) {
      call('fetchInboxMessagesWithoutToken', [externalUserId, filterOptions], onSuccess, onError);
    },
    setInboxMessagesSeen(externalUserId, messageIds, onSuccess = noop, onError = noop) {
      call('setInboxMessagesSeen', [externalUserId, messageIds], onSuccess, onError);
    },
    /** Kept on the device and sent later in a batch; `onError` hears of a refused event. */
    submitEvent(eventData, onError = noop) { call('submitEvent', [eventData], noop, onError); },
    submitEventImmediately(eventData, onSuccess = noop, onError = noop) {
      call('submitEventImmediately', [eventData], onSuccess, onError);
    },

    /** Not the plugin's: `provider({reason, externalUserId})` returns a token, null or a promise. */
    setUserDataJwtProvider(provider) { transport.handleRequest('requestUserDataJwt', provider); },
    /** Not the plugin's: ends the core (it persists its state and exits); resolves with its exit status. */
    close: () => transport.close(),
  };
}

module.exports = { createMobileMessaging };
