import Foundation
import JSON
import Testing

/// The JSON-lines transcripts under `examples/transcripts/`, replayed against a live
/// mmcore and mmserver.
///
/// Lines: `{"transcript": {"authorization": ..., "description": ...}}` first (the
/// application's setting); `{"send": message}` writes a message, `{"sendLine": text}` a
/// raw line; `{"expect": message}` waits for the response with that `id` (or the next
/// notification with that method and eventName, or the next batch answer for an array)
/// and compares it in shape (``JSONShape``). Messages no line expects are ignored.
/// Placeholders: `${applicationCode}`, `${serverURL}`, `${jwt:<sub>}` and
/// `${expiredJwt:<sub>}` (tokens minted for the run), `${*}`, and any `${name}` bound by
/// the first expect that shows it (the push registration id, for instance).
@Suite("Transcripts replayed")
struct TranscriptReplayTests {
    static let directory = CoreProcess.packageRoot.appendingPathComponent("examples/transcripts")

    static var transcripts: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".jsonl") }.sorted()
    }

    @Test("there are transcripts")
    func thereAreTranscripts() {
        #expect(Self.transcripts.count >= 3, "\(Self.transcripts)")
    }

    @Test(arguments: transcripts)
    func replay(_ name: String) async throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8)
        let lines = try text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { try JSONParser.parse(String($0)) }
        let header = try #require(lines.first?["transcript"], "\(name): the first line must be {\"transcript\": {...}}")
        let harness = try await CoreHarness.start(authorization: header["authorization"]?.stringValue ?? "ALLOW_ALL")
        var shape = JSONShape()
        shape.bindings["applicationCode"] = .string(harness.application.code)
        shape.bindings["serverURL"] = .string(harness.server.url.absoluteString)
        var unclaimed: [JSONValue] = []

        do {
            for (number, line) in lines.enumerated().dropFirst() {
                let location = "\(name):\(number + 1)"
                if let message = line["send"] {
                    try await mintTokens(in: message, harness: harness, shape: &shape)
                    try harness.core.sendJSON(try shape.substituted(message))
                } else if let raw = line["sendLine"]?.stringValue {
                    try harness.core.send(raw)
                } else if let expected = line["expect"] {
                    let actual = try await next(matching: expected, unclaimed: &unclaimed, core: harness.core, location: location)
                    let differences = shape.mismatches(expected: expected, actual: actual)
                    #expect(differences.isEmpty, "\(location): \(differences.joined(separator: "; "))")
                } else {
                    Issue.record("\(location): a line is send, sendLine or expect: \(line.serialized)")
                }
            }
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    /// Binds `${jwt:<sub>}` / `${expiredJwt:<sub>}` placeholders in `value` to fresh tokens.
    func mintTokens(in value: JSONValue, harness: CoreHarness, shape: inout JSONShape) async throws {
        switch value {
        case .string(let text) where text.hasPrefix("${") && text.hasSuffix("}"):
            let name = String(text.dropFirst(2).dropLast())
            guard shape.bindings[name] == nil else { return }
            if name.hasPrefix("jwt:") {
                shape.bindings[name] = .string(try await harness.token(for: String(name.dropFirst(4))))
            } else if name.hasPrefix("expiredJwt:") {
                shape.bindings[name] = .string(try await ServerProcess.mintToken(
                    kid: harness.application.keyId, secret: harness.application.secret,
                    applicationCode: harness.application.code, sub: String(name.dropFirst(11)), lifetime: 60, iatOffset: -3600))
            }
        case .object(let object):
            for member in object.members { try await mintTokens(in: member.value, harness: harness, shape: &shape) }
        case .array(let array):
            for element in array { try await mintTokens(in: element, harness: harness, shape: &shape) }
        default:
            break
        }
    }

    /// The first message (kept from before, or read now) that `expected` is about.
    func next(matching expected: JSONValue, unclaimed: inout [JSONValue], core: CoreProcess, location: String) async throws -> JSONValue {
        func isMatch(_ message: JSONValue) -> Bool {
            if expected.arrayValue != nil { return message.arrayValue != nil }
            guard message.arrayValue == nil else { return false }
            if let method = expected["method"] {
                return message["method"] == method && message["id"] == nil
                    && (expected["params"]?["eventName"] == nil || message["params"]?["eventName"] == expected["params"]?["eventName"])
            }
            return message["method"] == nil && message["id"] == expected["id"]
        }
        if let index = unclaimed.firstIndex(where: isMatch) { return unclaimed.remove(at: index) }
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw CoreProcess.Failure(description: "\(location): nothing matched \(expected.serialized)") }
            let message = try await core.readMessage(timeout: remaining)
            if isMatch(message) { return message }
            unclaimed.append(message)
        }
    }
}
