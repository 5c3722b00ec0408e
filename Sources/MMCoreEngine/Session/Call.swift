/// The calls the engine serves, by the name the bridge contract gives them: stated once,
/// for the bridge's method types and for what the engine says about a call (logs,
/// `authenticationError` events, errors that name the call).
public enum Call: String, Sendable, CaseIterable {
    case initialize = "init"
    case setUserDataJwt, saveUser, fetchUser, getUser, personalize, depersonalize
    case saveInstallation, fetchInstallation, getInstallation, setInstallationAsPrimary, depersonalizeInstallation
    case fetchInboxMessages, fetchInboxMessagesWithoutToken, setInboxMessagesSeen
    case submitEvent, submitEventImmediately
    case cleanup
}
