// The plugin's JavaScript face, in the Cordova plugin's own callback API
// (www/MobileMessagingCordova.js of infobip/mobile-messaging-cordova-plugin), over
// `cordova.exec` (here the Node shim; on a device, Cordova's own). Actions and argument
// order are the JSON-RPC methods' (schema/openrpc.json).
//
// As in the plugin: `register(eventName, handler)` (alias `on`) takes the events it
// lists, and `handler(payload)` gets the payload itself; `setUserDataJwt(jwt,
// errorCallback)` has no success callback (the native side sets the token in place and
// answers nothing); error callbacks receive error.data, {code, description, domain, ...}.
// `setUserDataJwtProvider` is not the plugin's: it answers the core's requestUserDataJwt
// (the opt-in userDataJwtProvider). `submitEvent(eventData, errorCallback)` takes an
// optional error callback the plugin's does not (it passes empty callbacks, so a
// refused event never reaches the app); called as the plugin's, it behaves the same.
'use strict';
const SERVICE = 'MobileMessagingCordova';

// The plugin's supportedEvents for the user-data area, and the core's own authenticationError
// and customEventsDropped.
const SUPPORTED_EVENTS = [
  'registrationUpdated', 'installationUpdated', 'userUpdated', 'personalized', 'depersonalized', 'authenticationError',
  'customEventsDropped',
];

const noop = () => {};

class MobileMessagingCordova {
  constructor(cordova) {
    this.cordova = cordova;
    this.handlers = new Map();
    this.supportedEvents = SUPPORTED_EVENTS;
  }

  /** Starts the core; `onInitError(error)` receives {code, description, domain} on failure. */
  init(config, callback = noop, onInitError = noop) {
    if (!config.applicationCode) { onInitError('No application code provided'); return; }
    this.cordova.exec((event) => this.dispatch(event), noop, SERVICE, 'registerReceiver', [SUPPORTED_EVENTS]);
    this.cordova.exec(callback, onInitError, SERVICE, 'init', [config]);
  }

  /** `handler(payload)` for every event called `eventName`; names outside the supported list are ignored. */
  register(eventName, handler) {
    if (!SUPPORTED_EVENTS.includes(eventName)) return;
    if (!this.handlers.has(eventName)) this.handlers.set(eventName, []);
    this.handlers.get(eventName).push(handler);
  }

  on(eventName, handler) { this.register(eventName, handler); }

  unregister(eventName, handler) {
    this.handlers.set(eventName, (this.handlers.get(eventName) || []).filter((h) => h !== handler));
  }

  off(eventName, handler) { this.unregister(eventName, handler); }

  unregisterAllHandlers(eventName) { this.handlers.set(eventName, []); }

  /** Not the plugin's: `provider({reason, externalUserId})` returns a token, null, or a promise. */
  setUserDataJwtProvider(provider) {
    this.cordova.exec(provider, noop, SERVICE, 'registerUserDataJwtProvider', []);
  }

  /** No success callback, as in the plugin: the token applies to the calls made after this one. */
  setUserDataJwt(jwt, errorCallback) { this.cordova.exec(noop, errorCallback, SERVICE, 'setUserDataJwt', [jwt]); }

  saveUser(userData, callback, errorCallback) { this.exec('saveUser', [userData], callback, errorCallback); }
  fetchUser(callback, errorCallback) { this.exec('fetchUser', [], callback, errorCallback); }
  getUser(callback, errorCallback) { this.exec('getUser', [], callback, errorCallback); }
  personalize(context, callback, errorCallback) { this.exec('personalize', [context], callback, errorCallback); }
  depersonalize(callback, errorCallback) { this.exec('depersonalize', [], callback, errorCallback); }
  saveInstallation(installation, callback, errorCallback) { this.exec('saveInstallation', [installation], callback, errorCallback); }
  fetchInstallation(callback, errorCallback) { this.exec('fetchInstallation', [], callback, errorCallback); }
  getInstallation(callback, errorCallback) { this.exec('getInstallation', [], callback, errorCallback); }
  setInstallationAsPrimary(pushRegistrationId, primary, callback, errorCallback) {
    this.exec('setInstallationAsPrimary', [pushRegistrationId, primary], callback, errorCallback);
  }
  depersonalizeInstallation(pushRegistrationId, callback, errorCallback) {
    this.exec('depersonalizeInstallation', [pushRegistrationId], callback, errorCallback);
  }
  cleanup(callback, errorCallback) { this.exec('cleanup', [], callback, errorCallback); }

  /** The person's inbox with their inbox token (Bearer); `filterOptions` may be null. */
  fetchInboxMessages(token, externalUserId, filterOptions, callback, errorCallback) {
    this.exec('fetchInboxMessages', [token, externalUserId, filterOptions], callback, errorCallback);
  }
  /** The person's inbox with the application code; refused by an application that requires a token. */
  fetchInboxMessagesWithoutToken(externalUserId, filterOptions, callback, errorCallback) {
    this.exec('fetchInboxMessagesWithoutToken', [externalUserId, filterOptions], callback, errorCallback);
  }
  /** `callback(messageIds)` once the marks reached the server (or error.pending: kept and sent later). */
  setInboxMessagesSeen(externalUserId, messageIds, callback, errorCallback) {
    this.exec('setInboxMessagesSeen', [externalUserId, messageIds], callback, errorCallback);
  }
  /** Kept on the device and sent later; `errorCallback` (not the plugin's) hears of a refused event. */
  submitEvent(eventData, errorCallback = noop) { this.exec('submitEvent', [eventData], noop, errorCallback); }
  /** Sent now and validated by the server; `errorCallback` gets its refusal or the network error. */
  submitEventImmediately(eventData, successCallback, errorCallback) {
    this.exec('submitEventImmediately', [eventData], successCallback, errorCallback);
  }

  exec(action, args, callback, errorCallback) {
    this.cordova.exec(callback, errorCallback, SERVICE, action, args);
  }

  dispatch([eventName, payload]) {
    for (const handler of this.handlers.get(eventName) || []) handler(payload);
  }
}

module.exports = { MobileMessagingCordova, SUPPORTED_EVENTS };
