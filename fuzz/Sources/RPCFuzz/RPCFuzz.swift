import JSON
import JSONRPC

// libFuzzer entry point for the path every byte from a wrapper takes before a handler
// runs: LineFramer -> JSONParser -> JSONRPCMessage -> MethodRegistry.resolve, plus the
// serialization of whatever answers it. Crashes, traps and timeouts are the findings;
// the checks below turn silent wrong output (a response that is not one JSON line, a
// parse that does not round-trip) into traps too.

/// The contract's method names and positional parameter names, as `mmcore` registers
/// them (the handlers never run here: resolution is the step under test).
private let registry: MethodRegistry = {
    let methods: [(String, [String])] = [
        ("init", ["configuration"]), ("setUserDataJwt", ["jwt"]), ("saveUser", ["userData"]),
        ("fetchUser", []), ("getUser", []), ("personalize", ["context"]), ("depersonalize", []),
        ("saveInstallation", ["installation"]), ("fetchInstallation", []), ("getInstallation", []),
        ("setInstallationAsPrimary", ["pushRegistrationId", "primary"]),
        ("depersonalizeInstallation", ["pushRegistrationId"]), ("cleanup", []), ("rpc.discover", []),
    ]
    var registry = MethodRegistry()
    for (name, parameters) in methods {
        registry.register(name, parameters: parameters) { _ in .null }
    }
    return registry
}()

/// Small enough that the fuzzer reaches "line too long" and nesting limits cheaply.
private let maxLineBytes = 4096
private let maxDepth = 32

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)
    let size = bytes.count
    // The first byte picks a chunk size, so the framer sees lines split across reads.
    let chunkSize = size > 0 ? Int(bytes[0] % 64) + 1 : 1
    var framer = LineFramer(maxLineBytes: maxLineBytes)
    var events: [LineEvent] = []
    var offset = 0
    while offset < size {
        let end = min(offset + chunkSize, size)
        events += framer.append(UnsafeBufferPointer(rebasing: bytes[offset..<end]))
        offset = end
    }
    events += framer.finish()
    // Framing chunk by chunk must agree with the rule applied to the whole input at once.
    precondition(events == referenceFraming(bytes), "the framer disagrees with the reference framing")
    for event in events { handle(event) }
    return 0
}

/// The framing rule stated plainly: split at `\n`, drop one trailing `\r`, too long
/// beyond the maximum, blank lines skipped.
private func referenceFraming(_ bytes: UnsafeBufferPointer<UInt8>) -> [LineEvent] {
    var segments = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    if segments.last?.isEmpty == true { segments.removeLast() }
    return segments.compactMap { segment in
        let line = segment.last == UInt8(ascii: "\r") ? segment.dropLast() : segment[...]
        if line.count > maxLineBytes { return .lineTooLong }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return nil }
        return .line(Array(line))
    }
}

private func handle(_ event: LineEvent) {
    switch event {
    case .lineTooLong:
        expectOneLine(JSONRPCResponse(id: nil, error: .lineTooLong(maxLineBytes: maxLineBytes)).serializedBytes)
    case .line(let line):
        precondition(!line.isEmpty && line.count <= maxLineBytes, "the framer delivered a line out of bounds")
        precondition(!line.contains(UInt8(ascii: "\n")), "the framer delivered a line holding a newline")
        let value: JSONValue
        do {
            value = try JSONParser.parse(line, maxDepth: maxDepth)
        } catch {
            expectOneLine(JSONRPCResponse(id: nil, error: .parseError(error.description, dataCode: "PARSE_ERROR")).serializedBytes)
            return
        }
        // What we parse, we write back as JSON that parses to the same value.
        let text = value.serializedBytes
        guard let reparsed = try? JSONParser.parse(text, maxDepth: maxDepth) else {
            preconditionFailure("serialized value does not parse: \(String(decoding: text, as: UTF8.self))")
        }
        precondition(reparsed == value, "serialization does not round-trip")
        if case .array(let elements) = value {
            for element in elements { decode(element) }
        } else {
            decode(value)
        }
    }
}

private func decode(_ value: JSONValue) {
    switch JSONRPCMessage(decoding: value) {
    case .invalid(let id, let error):
        expectOneLine(JSONRPCResponse(id: id, error: error).serializedBytes)
    case .response(let response):
        expectOneLine(response.serializedBytes)
    case .notification(let notification):
        _ = registry.resolve(method: notification.method, params: notification.params)
    case .request(let request):
        switch registry.resolve(method: request.method, params: request.params) {
        case .failure(let error):
            expectOneLine(JSONRPCResponse(id: request.id, error: error).serializedBytes)
        case .success(let (_, parameters)):
            for name in registry.parameterNames(of: request.method) ?? [] { _ = parameters[name] }
            expectOneLine(JSONRPCResponse(id: request.id, result: .null).serializedBytes)
        }
    }
}

/// A response must be exactly one line of JSON: no raw newline, and it parses.
private func expectOneLine(_ bytes: [UInt8]) {
    precondition(!bytes.contains(UInt8(ascii: "\n")), "a response holds a raw newline")
    do {
        _ = try JSONParser.parse(bytes, maxDepth: maxDepth + 8)
    } catch {
        preconditionFailure("a response is not JSON (\(error)): \(String(decoding: bytes, as: UTF8.self))")
    }
}
