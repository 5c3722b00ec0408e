import Foundation
import Hummingbird
import JSON
import NIOCore

/// A fault to inject into matching Mobile API requests, for testing clients against a
/// slow, failing or vanishing server. Off unless an admin puts rules in place.
public struct FaultRule: Sendable {
    /// `nil` matches every method.
    public var method: String?
    /// A glob over the path: `*` matches within one path segment, `**` across segments.
    public var path: String
    /// The probability (0...1) that a matching request gets the fault.
    public var share: Double = 1
    /// How many more requests may get the fault; `nil` is unlimited.
    public var remaining: Int?
    public var delayMs: Int = 0
    /// Answer with this status instead of serving the request.
    public var status: Int?
    public var retryAfter: Int?
    public var messageId: String?
    /// Close the connection without a response.
    public var drop: Bool = false

    static let fields: Set<String> = [
        "method", "path", "share", "count", "delayMs", "status", "retryAfter", "messageId", "drop",
    ]

    init(_ value: JSONValue, index: Int) throws(ServiceError) {
        let field = "faults[\(index)]"
        guard let object = value.objectValue else {
            throw .requestFormatInvalid("\(field) must be an object, got \(value.typeName)")
        }
        let reader = FieldReader(object, prefix: field + ".")
        try reader.rejectUnknown(allowed: Self.fields)
        guard let path = object["path"]?.stringValue, path.hasPrefix("/") else {
            throw .requestFormatInvalid("\(field).path must be a path glob starting with /")
        }
        self.path = path
        if let method = object["method"], !method.isNull {
            self.method = try Validate.nonEmptyString(method, field: reader.name("method")).uppercased()
        }
        func number(_ key: String, in range: ClosedRange<Double>) throws(ServiceError) -> Double? {
            guard let value = object[key], !value.isNull else { return nil }
            guard let number = value.numberValue?.doubleValue, range.contains(number) else {
                throw .requestFormatInvalid("\(field).\(key) must be a number in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        share = try number("share", in: 0...1) ?? 1
        remaining = try number("count", in: 0...1e9).map { Int($0) }
        delayMs = Int(try number("delayMs", in: 0...600_000) ?? 0)
        status = try number("status", in: 100...599).map { Int($0) }
        retryAfter = try number("retryAfter", in: 0...86_400).map { Int($0) }
        if let messageId = object["messageId"], !messageId.isNull {
            self.messageId = try Validate.nonEmptyString(messageId, field: reader.name("messageId"))
        }
        drop = try reader.bool("drop") ?? false
    }

    var json: JSONValue {
        var object = JSONObject()
        if let method { object["method"] = .string(method) }
        object["path"] = .string(path)
        object["share"] = .number(JSONNumber(share))
        if let remaining { object["count"] = .number(JSONNumber(remaining)) }
        if delayMs > 0 { object["delayMs"] = .number(JSONNumber(delayMs)) }
        if let status { object["status"] = .number(JSONNumber(status)) }
        if let retryAfter { object["retryAfter"] = .number(JSONNumber(retryAfter)) }
        if let messageId { object["messageId"] = .string(messageId) }
        if drop { object["drop"] = true }
        return .object(object)
    }

    func matches(method: String, path: String) -> Bool {
        if let expected = self.method, expected != method { return false }
        return Glob.matches(pattern: Array(self.path.utf8)[...], Array(path.utf8)[...])
    }
}

enum Glob {
    /// `*` matches any run of characters but `/`; `**` matches any run at all.
    static func matches(pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        guard let first = pattern.first else { return text.isEmpty }
        let star = UInt8(ascii: "*")
        if first == star {
            let crossesSegments = pattern.dropFirst().first == star
            let rest = pattern.dropFirst(crossesSegments ? 2 : 1)
            var index = text.startIndex
            while true {
                if matches(pattern: rest, text[index...]) { return true }
                guard index < text.endIndex, crossesSegments || text[index] != UInt8(ascii: "/") else { return false }
                index += 1
            }
        }
        guard let head = text.first, head == first else { return false }
        return matches(pattern: pattern.dropFirst(), text.dropFirst())
    }
}

/// The current fault rules; replaced as a whole by the admin API.
public actor FaultInjector {
    private var rules: [FaultRule] = []

    public init() {}

    func replace(with rules: [FaultRule]) { self.rules = rules }

    var current: [FaultRule] { rules }

    /// The fault for this request, if a rule matches and its share and count allow;
    /// counts down the rule's remaining count.
    func fault(method: String, path: String) -> FaultRule? {
        for index in rules.indices where rules[index].matches(method: method, path: path) {
            if let remaining = rules[index].remaining, remaining <= 0 { continue }
            guard rules[index].share >= 1 || Double.random(in: 0..<1) < rules[index].share else { continue }
            if let remaining = rules[index].remaining { rules[index].remaining = remaining - 1 }
            return rules[index]
        }
        return nil
    }
}

/// Thrown after a fault closed the connection: there is nobody left to answer.
struct ConnectionDropped: Error {}

/// Applies the fault rules to Mobile API requests (paths under `/mobile/`).
struct FaultInjectionMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let injector: FaultInjector

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/mobile/"),
            let fault = await injector.fault(method: request.method.rawValue, path: path)
        else { return try await next(request, context) }
        if fault.delayMs > 0 {
            try await Task.sleep(for: .milliseconds(fault.delayMs))
        }
        if fault.drop {
            try? await context.channel.close()
            throw ConnectionDropped()
        }
        guard let status = fault.status else { return try await next(request, context) }
        var error = ServiceError(
            HTTPResponse.Status(code: status), fault.messageId ?? "FAULT_INJECTED",
            "Fault injected by mmserver (status \(status))")
        if let retryAfter = fault.retryAfter {
            error.headers[.retryAfter] = String(retryAfter)
        }
        return try error.response(from: request, context: context)
    }
}
