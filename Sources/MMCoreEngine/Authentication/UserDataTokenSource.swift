import UserDataJWT

/// The user-data JWT in force: held in memory only, parsed once per token, never logged
/// but as its ``summary``.
///
/// `null` and `""` clear it, as the native bridges do; any other string (even blank) is
/// kept and refused when a call needs it (`docs/contract/jwt.md`, "Setting, clearing and dropping the token").
struct UserDataTokenSource: Sendable {
    private(set) var token: String?
    /// The structure check of `token`, done once when it was set.
    private var parsed: Result<UserDataJWT, UserDataJWTError>?
    /// What may be logged about `token`: its `kid` and claim names.
    private(set) var summary = "none"
    /// Counts changes, so a call can tell whether the token was set again since it was
    /// admitted (a logout drops only the token it was admitted under).
    private(set) var generation = 0

    /// Sets the token; returns whether it changed.
    @discardableResult
    mutating func set(_ newToken: String?) -> Bool {
        let token = newToken?.isEmpty == true ? nil : newToken
        guard token != self.token else { return false }
        self.token = token
        generation += 1
        if let token {
            do throws(UserDataJWTError) {
                parsed = .success(try UserDataJWT(parsing: token))
            } catch {
                parsed = .failure(error)
            }
            summary = Redaction.summary(of: token)
        } else {
            parsed = nil
            summary = "none"
        }
        return true
    }

    /// The token after the client-side checks (structure, then expiry at `now`), or
    /// `nil` when none is set.
    func validated(now: Double) throws(UserDataJWTError) -> String? {
        guard let token, let parsed else { return nil }
        let jwt = try parsed.get()
        if jwt.isExpired(now: now) { throw .expired }
        return token
    }

    /// Whether a usable token is set that expires within `leeway` seconds.
    func expires(within leeway: Double, now: Double) -> Bool {
        guard case .success(let jwt)? = parsed else { return false }
        return jwt.expires(within: leeway, now: now)
    }

    /// Whether `candidate` passes the client-side checks at `now`.
    static func isUsable(_ candidate: String, now: Double) -> Bool {
        (try? UserDataJWT.validate(candidate, now: now)) != nil
    }
}
