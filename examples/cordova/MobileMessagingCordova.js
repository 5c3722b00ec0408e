// The plugin's JavaScript face, in the wrappers' callback style, over `cordova.exec`
// (here the Node shim; on a device, Cordova's own). Method names and argument order are
// the JSON-RPC methods' (schema/openrpc.json).
'use strict';
const SERVICE = 'MobileMessagingCordova';

class MobileMessagingCordova {
  constructor(cordova) {
    this.cordova = cordova;
    this.handlers = new Map();
  }

  /** Starts the core; `onInitError(error)` receives {code, description, domain} on failure. */
  init(config, onSuccess, onInitError) {
    this.cordova.exec((event) => this.dispatch(event), () => {}, SERVICE, 'registerReceiver', [[]]);
    this.cordova.exec(onSuccess, onInitError, SERVICE, 'init', [config]);
  }

  /** `handler(payload)` for every event called `eventName` (registrationUpdated, userUpdated, ...). */
  register(eventName, handler) {
    if (!this.handlers.has(eventName)) this.handlers.set(eventName, []);
    this.handlers.get(eventName).push(handler);
  }

  unregister(eventName, handler) {
    this.handlers.set(eventName, (this.handlers.get(eventName) || []).filter((h) => h !== handler));
  }

  /** `provider({reason, externalUserId})` returns a token, null, or a promise (needs userDataJwtProvider: true). */
  setUserDataJwtProvider(provider) {
    this.cordova.exec(provider, () => {}, SERVICE, 'registerUserDataJwtProvider', []);
  }

  setUserDataJwt(jwt, onSuccess, onError) { this.exec('setUserDataJwt', [jwt], onSuccess, onError); }
  saveUser(userData, onSuccess, onError) { this.exec('saveUser', [userData], onSuccess, onError); }
  fetchUser(onSuccess, onError) { this.exec('fetchUser', [], onSuccess, onError); }
  getUser(onSuccess, onError) { this.exec('getUser', [], onSuccess, onError); }
  personalize(context, onSuccess, onError) { this.exec('personalize', [context], onSuccess, onError); }
  depersonalize(onSuccess, onError) { this.exec('depersonalize', [], onSuccess, onError); }
  saveInstallation(installation, onSuccess, onError) { this.exec('saveInstallation', [installation], onSuccess, onError); }
  fetchInstallation(onSuccess, onError) { this.exec('fetchInstallation', [], onSuccess, onError); }
  getInstallation(onSuccess, onError) { this.exec('getInstallation', [], onSuccess, onError); }
  setInstallationAsPrimary(pushRegistrationId, primary, onSuccess, onError) {
    this.exec('setInstallationAsPrimary', [pushRegistrationId, primary], onSuccess, onError);
  }
  depersonalizeInstallation(pushRegistrationId, onSuccess, onError) {
    this.exec('depersonalizeInstallation', [pushRegistrationId], onSuccess, onError);
  }
  cleanup(onSuccess, onError) { this.exec('cleanup', [], onSuccess, onError); }

  exec(action, args, onSuccess, onError) {
    this.cordova.exec(onSuccess, onError, SERVICE, action, args);
  }

  dispatch([eventName, payload]) {
    for (const handler of this.handlers.get(eventName) || []) handler(payload);
  }
}

module.exports = { MobileMessagingCordova };
