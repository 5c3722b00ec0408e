import JSON

/// A JSON-RPC error object: `{"code": <integer>, "message": <text>, "data": <any>}`.
///
/// Protocol errors made here carry `data` of the shape every error on this surface has,
/// `{"code": <STRING CODE>, "description": <text>, "domain": "jsonrpc", ...}`, so that a
/// wrapper's error callback can switch on `data.code` whatever went wrong.
public struct JSONRPCError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The integer `code` of an error object. The reserved protocol codes are static
    /// constants; applications pick their own outside -32768...-32000.
    public struct Code: RawRepresentable, Sendable, Hashable, ExpressibleByIntegerLiteral, CustomStringConvertible {
        public var rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public init(integerLiteral value: Int) { rawValue = value }

        /// Invalid JSON was received.
        public static let parseError = Code(rawValue: -32700)
        /// The JSON sent is not a valid Request object.
        public static let invalidRequest = Code(rawValue: -32600)
        /// The method does not exist.
        public static let methodNotFound = Code(rawValue: -32601)
        /// Invalid method parameters.
        public static let invalidParams = Code(rawValue: -32602)
        /// Internal JSON-RPC error; also what any error without a JSON-RPC form becomes.
        public static let internalError = Code(rawValue: -32603)

        public var description: String { String(rawValue) }
    }

    /// The `data.domain` of errors raised by the protocol layer itself.
    public static let protocolDomain = "jsonrpc"

    public var code: Code
    public var message: String
    public var data: JSONValue?

    public init(code: Code, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public var description: String { "\(code.rawValue) \(message)" }

    /// The error object as JSON (`data` left out when `nil`).
    public var jsonValue: JSONValue {
        var object: JSONObject = ["code": .number(JSONNumber(code.rawValue)), "message": .string(message)]
        if let data { object["data"] = data }
        return .object(object)
    }
}

// MARK: - Protocol errors

extension JSONRPCError {
    /// A protocol error: `message` is "<title>: <description>" and `data` carries the
    /// string code and description, plus `extra` members.
    static func protocolError(_ code: Code, title: String, dataCode: String, description: String, extra: JSONObject = [:]) -> JSONRPCError {
        var data: JSONObject = [
            "code": .string(dataCode), "description": .string(description), "domain": .string(protocolDomain),
        ]
        for (key, value) in extra { data[key] = value }
        return JSONRPCError(code: code, message: "\(title): \(description)", data: .object(data))
    }

    /// Invalid JSON: the bytes of a line are not a JSON document.
    public static func parseError(_ description: String, dataCode: String = "PARSE_ERROR") -> JSONRPCError {
        protocolError(.parseError, title: "Parse error", dataCode: dataCode, description: description)
    }

    /// The line is JSON but not a valid request (or a batch element is not one).
    public static func invalidRequest(_ description: String, dataCode: String = "INVALID_REQUEST", extra: JSONObject = [:]) -> JSONRPCError {
        protocolError(.invalidRequest, title: "Invalid Request", dataCode: dataCode, description: description, extra: extra)
    }

    /// Longest method name echoed back: a name is the caller's own text, and a 1 MB one
    /// must not come back three times in one error line.
    public static let maxEchoedMethodCharacters = 128

    /// - Parameter hint: a sentence that tells the caller where to find the methods
    ///   (the host's to give: this layer knows none).
    public static func methodNotFound(_ name: String, hint: String? = nil) -> JSONRPCError {
        // `message` stays short; `data.description` is what wrappers show a person
        // (Flutter's PlatformException.message), so it is a sentence.
        let method =
            name.count > maxEchoedMethodCharacters
            ? "\(name.prefix(maxEchoedMethodCharacters))… (\(name.utf8.count) bytes)" : name
        var error = protocolError(
            .methodNotFound, title: "Method not found",
            dataCode: "METHOD_NOT_FOUND", description: "There is no method \"\(method)\"" + (hint.map { " (\($0))." } ?? "."),
            extra: ["method": .string(method)])
        error.message = "Method not found: \(method)"
        return error
    }

    /// Invalid params naming the offending field by its path, as in
    /// `invalidParams(field: "userData.birthday", "must be a string in YYYY-MM-DD format")`
    /// -> message `Invalid params: userData.birthday must be a string in YYYY-MM-DD format`,
    /// `data.field` `"userData.birthday"`.
    public static func invalidParams(field: String, _ problem: String) -> JSONRPCError {
        protocolError(
            .invalidParams, title: "Invalid params", dataCode: "INVALID_PARAMS", description: "\(field) \(problem)",
            extra: ["field": .string(field)])
    }

    /// The error any failure without a JSON-RPC form becomes. Says nothing of the cause:
    /// internals stay in the process (and its stderr log).
    public static let internalError = protocolError(
        .internalError, title: "Internal error", dataCode: "INTERNAL_ERROR", description: "the request failed unexpectedly")

    /// A request still running when the connection shut down and the grace period ended.
    public static let cancelledByShutdown = protocolError(
        .internalError, title: "Internal error", dataCode: "CANCELLED",
        description: "the request was cancelled because the connection is shutting down")

    /// A line longer than the framing's maximum; it was skipped without being read whole.
    public static func lineTooLong(maxLineBytes: Int) -> JSONRPCError {
        invalidRequest(
            "line exceeds \(maxLineBytes) bytes", dataCode: "LINE_TOO_LONG",
            extra: ["maxLineBytes": .number(JSONNumber(maxLineBytes))])
    }
}

// MARK: - Errors thrown by handlers

/// An error that has a JSON-RPC form. Domain errors conform so that a handler can throw
/// them and the client receives their code, message and data; any other error thrown by
/// a handler is answered with ``JSONRPCError/internalError``.
public protocol JSONRPCErrorConvertible: Error {
    var jsonRPCError: JSONRPCError { get }
}

extension JSONRPCError: JSONRPCErrorConvertible {
    public var jsonRPCError: JSONRPCError { self }
}
