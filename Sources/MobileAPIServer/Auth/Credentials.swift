import Foundation
import Hummingbird

/// What a Mobile API request's `Authorization` header says.
///
/// Its description never shows a token, so a `Credentials` can be logged or
/// interpolated without leaking one.
enum Credentials: Sendable, CustomStringConvertible {
    case app(code: String)
    case bearer(token: String)

    /// `App <code>` or `Bearer <token>`; the scheme is case-insensitive (RFC 9110).
    /// Anything else, including no header, is `AUTHORIZATION_INVALID`.
    init(_ request: Request) throws(ServiceError) {
        guard let header = request.headers[.authorization] else { throw .authorizationInvalid }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else { throw .authorizationInvalid }
        let value = parts[1].trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty else { throw .authorizationInvalid }
        switch parts[0].lowercased() {
        case "app": self = .app(code: value)
        case "bearer": self = .bearer(token: value)
        default: throw .authorizationInvalid
        }
    }

    /// For the request log: the scheme only.
    static func scheme(of request: Request) -> String {
        guard let header = request.headers[.authorization] else { return "none" }
        let scheme = header.prefix(while: { $0 != " " }).lowercased()
        switch scheme {
        case "app": return "App"
        case "bearer": return "Bearer"
        default: return "none"
        }
    }

    var description: String {
        switch self {
        case .app(let code): "App \(code)"
        case .bearer: "Bearer <redacted>"
        }
    }
}
