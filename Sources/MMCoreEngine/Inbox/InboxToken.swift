import UserDataJWT

/// The token of `fetchInboxMessages`, checked before anything is sent.
///
/// It has the user-data JWT's structure with `sub` the person's external user id, so
/// it goes through exactly the user-data JWT's checks (``UserDataJWT/validate(_:now:)``:
/// same order, codes and messages). Beyond the native SDKs, which send any string,
/// a token issued for another person is refused here: its `sub` must be the
/// `externalUserId` asked for.
///
/// The token belongs to its one call: it is never stored, logged or echoed, and it
/// neither replaces the user-data JWT nor is replaced by it.
enum InboxToken {
    /// The token, when it may be sent for `externalUserId`'s inbox at `now`.
    ///
    /// - Throws: `JWT_TOKEN_STRUCTURE_INVALID`, `JWT_TOKEN_EXPIRED`, then
    ///   `JWT_TOKEN_SUBJECT_MISMATCH`.
    static func checked(_ token: String, for externalUserId: String, now: Double) throws(MobileMessagingError) -> String {
        let jwt: UserDataJWT
        do throws(UserDataJWTError) {
            jwt = try UserDataJWT.validate(token, now: now)
        } catch {
            throw .jwt(error)
        }
        guard jwt.subject == externalUserId else { throw .inboxTokenForAnotherPerson }
        return jwt.token
    }
}

extension MobileMessagingError {
    /// Neither the token's `sub` nor the external user id is echoed: both are personal data.
    static let inboxTokenForAnotherPerson = MobileMessagingError(
        .jwtSubjectMismatch,
        description: "The token was issued for another person: its sub claim is not the externalUserId asked for. No request was sent.")
}
