/// Why a user-data JWT was refused on the client.
///
/// `code` and `description` are exactly what the Mobile Messaging wrappers report, so
/// apps can switch on the code. Neither ever contains the token itself.
public struct UserDataJWTError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let structureInvalid = Code(rawValue: "JWT_TOKEN_STRUCTURE_INVALID")
        public static let expired = Code(rawValue: "JWT_TOKEN_EXPIRED")
    }

    /// Which structural check failed, in the order the checks run.
    public enum StructureProblem: Sendable, Equatable {
        case tooLong(limit: Int)
        case blank
        case parts
        case characters
        case header
        case missingHeader(String)
        case payload
        case missingClaim(String)
        case expNotANumber

        var message: String {
            switch self {
            case .tooLong(let limit): "Token is longer than \(limit) bytes."
            case .blank: "Token is empty or blank."
            case .parts: "Token must have three parts separated by dots."
            case .characters: "Token contains characters outside the Base64url alphabet."
            case .header: "Token header is not a valid Base64 encoded JSON object."
            case .missingHeader(let name): "Token header is missing mandatory header \(name)"
            case .payload: "Token payload is not a valid Base64 encoded JSON object."
            case .missingClaim(let name): "Token payload is missing mandatory claim \(name)"
            case .expNotANumber: "Token payload claim exp is not a number."
            }
        }
    }

    public let code: Code
    public let description: String
    /// The failed structural check; `nil` for ``Code/expired``.
    public let problem: StructureProblem?

    static func structure(_ problem: StructureProblem) -> UserDataJWTError {
        UserDataJWTError(code: .structureInvalid, description: problem.message, problem: problem)
    }

    public static let expired = UserDataJWTError(
        code: .expired, description: "The provided JWT is expired.", problem: nil)
}
