/// The errors of an exchange with the Mobile API that did not produce its answer, for
/// ``MobileAPIClient``.
extension MobileMessagingError {
    /// A 3xx: redirects are never followed, so that no person's data or id goes to a
    /// host the app did not configure (`docs/contract/mobile-api.md`, "Talking to the Mobile API").
    static func unfollowedRedirect(status: Int, to host: String?) -> MobileMessagingError {
        let target = host.map { " to \($0)" } ?? ""
        return .unexpectedResponse(
            status: status, "The server answered HTTP \(status), a redirect\(target), which is not followed: check backendBaseURL.")
    }

    /// A 2xx whose body is not JSON: a captive portal's sign-in page or a proxy answered
    /// instead of the Mobile API, so the Mobile API was not reached. A network failure,
    /// kept and retried like one, not a final answer.
    static func notTheMobileAPI(status: Int, contentType: String, bytes: Int) -> MobileMessagingError {
        .network(
            "the answer (HTTP \(status), \(contentType), \(bytes) bytes) is not the Mobile API's JSON; a captive portal or a proxy may be in the way")
    }

    /// Whether this is an ``unfollowedRedirect(status:to:)``: the request may succeed
    /// later unchanged (on another network, once a proxy is gone), so a queueable change
    /// is kept pending, as after a network failure (`isTransient` counts it).
    var isUnfollowedRedirect: Bool {
        domain == Domain.core && errorCode == .unexpectedResponse && (300..<400).contains(httpStatus ?? 0)
    }
}
