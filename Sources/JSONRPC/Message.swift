import JSON

/// A request: the client expects exactly one response carrying the same `id`.
public struct JSONRPCRequest: Sendable {
    /// `nil` when the client sent `"id": null` (allowed by JSON-RPC 2.0, though
    /// discouraged): the request is still answered, with `"id": null`.
    public var id: RequestID?
    public var method: String
    /// An array or an object; `nil` when the member was absent.
    public var params: JSONValue?

    public init(id: RequestID?, method: String, params: JSONValue? = nil) {
        self.id = id
        self.method = method
        self.params = params
    }
}

/// A notification: a request without an `id` member, never answered.
public struct JSONRPCNotification: Sendable {
    public var method: String
    public var params: JSONValue?

    public init(method: String, params: JSONValue? = nil) {
        self.method = method
        self.params = params
    }
}

/// A response: a result or an error for the request with the same `id`.
public struct JSONRPCResponse: Sendable {
    /// `nil` is written as `"id": null` (the id of the request could not be read).
    public var id: RequestID?
    public var outcome: Result<JSONValue, JSONRPCError>

    public init(id: RequestID?, outcome: Result<JSONValue, JSONRPCError>) {
        self.id = id
        self.outcome = outcome
    }

    public init(id: RequestID?, result: JSONValue) { self.init(id: id, outcome: .success(result)) }
    public init(id: RequestID?, error: JSONRPCError) { self.init(id: id, outcome: .failure(error)) }
}

/// One element of what a client sends: a JSON object decoded once, with the exact
/// validation of JSON-RPC 2.0.
///
/// Members the specification does not name are ignored.
public enum JSONRPCMessage: Sendable {
    case request(JSONRPCRequest)
    case notification(JSONRPCNotification)
    /// A response from the client to a request we sent. A malformed one (both or neither
    /// of `result`/`error`, a bad error object) arrives as a failure outcome saying so.
    case response(JSONRPCResponse)
    /// Not a valid request: answer `error`, with the request's `id` when it could be read
    /// (`nil`, written as `null`, otherwise).
    case invalid(id: RequestID?, error: JSONRPCError)

    public init(decoding value: JSONValue) {
        guard case .object(let object) = value else {
            self = .invalid(id: nil, error: .invalidRequest("expected a request object, got \(value.typeName)"))
            return
        }

        // The id first: every later failure is answered with it when it is readable.
        let idMember = object["id"]
        let id: RequestID?
        switch idMember {
        case nil, .null?: id = nil
        case let member?:
            guard let readable = RequestID(member) else {
                self = .invalid(id: nil, error: .invalidRequest("id must be a string, a number or null, got \(member.typeName)"))
                return
            }
            id = readable
        }

        if object["method"] == nil, object["result"] != nil || object["error"] != nil {
            self = .response(Self.decodeResponse(object, id: id))
            return
        }

        guard object["jsonrpc"] == .string("2.0") else {
            self = .invalid(id: id, error: .invalidRequest(#"jsonrpc must be exactly "2.0""#))
            return
        }
        guard let methodMember = object["method"] else {
            self = .invalid(id: id, error: .invalidRequest("method is missing"))
            return
        }
        guard case .string(let method) = methodMember else {
            self = .invalid(id: id, error: .invalidRequest("method must be a string, got \(methodMember.typeName)"))
            return
        }
        let params = object["params"]
        switch params {
        case nil, .array?, .object?: break
        case let other?:
            self = .invalid(id: id, error: .invalidRequest("params must be an array or an object, got \(other.typeName)"))
            return
        }

        if idMember == nil {
            self = .notification(JSONRPCNotification(method: method, params: params))
        } else {
            self = .request(JSONRPCRequest(id: id, method: method, params: params))
        }
    }

    private static func decodeResponse(_ object: JSONObject, id: RequestID?) -> JSONRPCResponse {
        func malformed(_ reason: String) -> JSONRPCResponse {
            JSONRPCResponse(id: id, error: .invalidRequest("malformed response from the client: \(reason)"))
        }
        guard object["jsonrpc"] == .string("2.0") else { return malformed(#"jsonrpc must be exactly "2.0""#) }
        switch (object["result"], object["error"]) {
        case (let result?, nil):
            return JSONRPCResponse(id: id, result: result)
        case (nil, let error?):
            guard case .object(let fields) = error,
                let code = fields["code"]?.numberValue?.intValue,
                case .string(let message)? = fields["message"]
            else {
                return malformed("error must be an object with an integer code and a string message")
            }
            return JSONRPCResponse(id: id, error: JSONRPCError(code: .init(rawValue: code), message: message, data: fields["data"]))
        default:
            return malformed("a response has either result or error, not both")
        }
    }
}

// MARK: - Writing

/// Appends `{"jsonrpc":"2.0","id":<id or null>`, the start of a request or a response.
private func writeHead(id: RequestID?, to output: inout [UInt8]) {
    output.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
    (id?.jsonValue ?? .null).write(to: &output)
}

extension JSONRPCResponse {
    /// Appends the response's compact JSON (no newline): `{"jsonrpc":"2.0","id":…,"result":…}`.
    public func write(to output: inout [UInt8]) {
        writeHead(id: id, to: &output)
        switch outcome {
        case .success(let result):
            output.append(contentsOf: #","result":"#.utf8)
            result.write(to: &output)
        case .failure(let error):
            output.append(contentsOf: #","error":"#.utf8)
            error.jsonValue.write(to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    public var serializedBytes: [UInt8] {
        var output: [UInt8] = []
        write(to: &output)
        return output
    }
}

extension JSONRPCRequest {
    /// Appends the request's compact JSON (no newline).
    public func write(to output: inout [UInt8]) {
        writeHead(id: id, to: &output)
        output.append(contentsOf: #","method":"#.utf8)
        JSONValue.string(method).write(to: &output)
        if let params {
            output.append(contentsOf: #","params":"#.utf8)
            params.write(to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }
}

extension JSONRPCNotification {
    /// Appends the notification's compact JSON (no newline).
    public func write(to output: inout [UInt8]) {
        output.append(contentsOf: #"{"jsonrpc":"2.0","method":"#.utf8)
        JSONValue.string(method).write(to: &output)
        if let params {
            output.append(contentsOf: #","params":"#.utf8)
            params.write(to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }
}
