/// What went wrong in storage, in the domain's words. The routes turn it into an HTTP
/// answer (``ServiceError/init(_:)``, in one place), so storage knows no status codes.
enum StoreError: Error, Sendable, Equatable {
    // MARK: Applications and keys
    case applicationNotFound(code: String)
    case applicationExists(code: String)
    case keyNotFound(keyId: String)
    /// `App <code>` named no application.
    case unknownApplicationCode

    // MARK: Installations and people
    case installationNotFound(pushRegId: String)
    /// The calling installation (`pushregistrationid`) is not of the acted-on installation's person.
    case installationOfAnotherPerson(pushRegId: String)
    case personNotFound(externalUserId: String)
    /// An external user id, email or phone another person of the application has.
    case identityTaken
    /// A list or object would grow past a limit (`what` names it for the client).
    case limitExceeded(what: String)

    // MARK: Who may act on whom
    /// A token's `sub` is not the external user id acted on.
    case subjectMismatch
    /// Under JWT_ONLY the external user id changes only by personalize.
    case externalUserIdChangeForbidden
    /// Under JWT_ONLY a contact may not lead personalize into another person.
    case personalizeMergeForbidden
    case ambiguousPersonalizeCandidates
    /// The installation's person has another external user id and no force was asked.
    case personalizationImpossible

    // MARK: Custom events
    case eventDefinitionNotFound(definitionId: String)
    case eventDefinitionExists(definitionId: String)
    /// `validate=true` and an event does not fit the application's definitions.
    case eventRejected(EventProblem)

    // MARK: Inbox
    case inboxMessageExists(messageId: String)

    /// Stored data contradicts itself (a foreign key should have prevented it): a bug.
    case inconsistent(String)
}
