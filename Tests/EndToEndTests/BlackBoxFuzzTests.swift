import Foundation
import JSON
import Testing

/// Throws 10,000 random and mutated lines at a spawned `mmcore` and checks, line by line
/// against a model of the framing rules, that every request is answered (with its id,
/// or with `null` when the id cannot be read), that nothing else is answered, that
/// stdout only ever holds JSON lines, and that the process exits 0 at end of input.
///
/// Deterministic: the seed is printed; replay a failure with
/// `MMCORE_FUZZ_SEED=<seed> swift test --skip-build --filter BlackBoxFuzz`.
@Suite(.timeLimit(.minutes(2)))
struct BlackBoxFuzzTests {
    static let inputCount = 10_000
    static let maxLineBytes = 65_536

    @Test func randomAndMutatedLinesAreAllAnsweredAndNeverCrashTheCore() async throws {
        let seed = ProcessInfo.processInfo.environment["MMCORE_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x6D6D_636F_7265
        print("BlackBoxFuzz: seed \(seed) (replay: MMCORE_FUZZ_SEED=\(seed) swift test --skip-build --filter BlackBoxFuzz)")
        var generator = LineGenerator(seed: seed)
        var stream: [UInt8] = []
        for _ in 0..<Self.inputCount {
            stream += generator.nextLine()
            stream.append(0x0A)
        }
        let expected = ExpectedAnswers(stream: stream, maxLineBytes: Self.maxLineBytes)

        let started = ContinuousClock.now
        let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("mmcore-fuzz-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: stateDirectory) }
        let core = try CoreProcess(arguments: [
            "--state-dir", stateDirectory.path, "--max-line-bytes", String(Self.maxLineBytes), "--log-level", "critical",
        ])
        try core.sendBytes(stream)
        try core.closeInput()

        var hangs = 0
        var lines: [String] = []
        do {
            lines = try await core.remainingLines(timeout: .seconds(30))
        } catch {
            hangs += 1
            Issue.record("no output for 30 s: \(error)")
        }
        let exit: CoreProcess.Exit?
        do {
            exit = try await core.waitForExit(timeout: .seconds(30))
        } catch {
            exit = nil
            hangs += 1
            Issue.record("\(error)")
        }
        let crashes = exit == CoreProcess.Exit(status: 0, exited: true) || exit == nil ? 0 : 1

        var singles: [String: Int] = [:]
        var batches: [String: Int] = [:]
        var nonJSON = 0
        var others = 0
        for line in lines {
            guard let message = try? JSONParser.parse(line) else {
                nonJSON += 1
                Issue.record("stdout line is not JSON: \(line.prefix(300))")
                continue
            }
            if case .array(let elements) = message {
                batches[elements.map { Self.answerKey($0) }.joined(separator: ","), default: 0] += 1
            } else if message["method"] != nil {
                others += 1  // an event or a request of the core's own
            } else {
                singles[Self.answerKey(message), default: 0] += 1
            }
        }

        let elapsed = ContinuousClock.now - started
        print("""
            BlackBoxFuzz: inputs tried \(Self.inputCount) (\(stream.count) bytes, \(expected.lineCount) lines after framing), \
            answers expected \(expected.singleCount) single + \(expected.batchCount) batches, \
            stdout lines \(lines.count) (non-JSON \(nonJSON), other messages \(others)), \
            crashes \(crashes), hangs \(hangs), exit \(exit?.description ?? "none"), \(elapsed)
            """)
        #expect(crashes == 0, "mmcore ended with \(exit?.description ?? "?"); stderr:\n\(core.standardError.suffix(2000))")
        #expect(nonJSON == 0)
        #expect(others == 0, "mmcore sent messages of its own before init")
        Self.expectSameCounts(singles, expected.singles, what: "single responses by id")
        Self.expectSameCounts(batches, expected.batches, what: "batch responses by ids")
    }

    /// A response's id as JSON text (`null` when absent), checking it has the form of one.
    private static func answerKey(_ response: JSONValue) -> String {
        let isResponse =
            response["jsonrpc"] == "2.0" && (response["result"] != nil) != (response["error"] != nil)
        if !isResponse { Issue.record("not a JSON-RPC response: \(response.serialized.prefix(300))") }
        return (response["id"] ?? .null).serialized
    }

    private static func expectSameCounts(_ actual: [String: Int], _ expected: [String: Int], what: String) {
        let keys = Set(actual.keys).union(expected.keys).sorted()
        let differences = keys.filter { actual[$0, default: 0] != expected[$0, default: 0] }
        #expect(
            differences.isEmpty,
            """
            \(what) differ for \(differences.count) ids, e.g. \
            \(differences.prefix(10).map { "\($0.prefix(120)): got \(actual[$0, default: 0]), expected \(expected[$0, default: 0])" })
            """)
    }
}

// MARK: - The model of what must be answered

/// What `mmcore` must answer for a byte stream, by the contract's framing rules and
/// JSON-RPC 2.0 (keys are ids as JSON text; `null` for an unreadable id).
struct ExpectedAnswers {
    private(set) var singles: [String: Int] = [:]
    private(set) var batches: [String: Int] = [:]
    private(set) var lineCount = 0
    var singleCount: Int { singles.values.reduce(0, +) }
    var batchCount: Int { batches.values.reduce(0, +) }

    init(stream: [UInt8], maxLineBytes: Int) {
        var lines = stream.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for var line in lines {
            if line.last == 0x0D { line = line.dropLast() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            lineCount += 1
            guard line.count <= maxLineBytes, let value = try? JSONParser.parse(line) else {
                singles["null", default: 0] += 1  // too long, not JSON, too deep
                continue
            }
            if case .array(let elements) = value {
                if elements.isEmpty {
                    singles["null", default: 0] += 1
                    continue
                }
                let answered = elements.compactMap(Self.answer(to:))
                if !answered.isEmpty { batches[answered.joined(separator: ","), default: 0] += 1 }
            } else if let key = Self.answer(to: value) {
                singles[key, default: 0] += 1
            }
        }
    }

    /// The id the answer to one message carries, `nil` when it gets none.
    static func answer(to value: JSONValue) -> String? {
        guard case .object = value else { return "null" }
        let id: JSONValue
        switch value["id"] {
        case nil: id = .null
        case .string?, .number?, .null?: id = value["id"]!
        default: return "null"  // an id that is not an id: answered with null
        }
        if value["method"] == nil, value["result"] != nil || value["error"] != nil { return nil }  // a response
        let isNotification = value["id"] == nil
        guard value["jsonrpc"] == "2.0", case .string? = value["method"] else { return id.serialized }
        switch value["params"] {
        case nil, .array?, .object?: return isNotification ? nil : id.serialized
        default: return id.serialized
        }
    }
}

// MARK: - Inputs

/// SplitMix64: small, fast and the same on every platform, so a seed replays exactly.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Lines of every kind a confused or hostile wrapper might send.
struct LineGenerator {
    private var random: SeededRandom
    private var counter = 0

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    /// Methods that answer at once before `init` (no network, no token request).
    private static let methods = [
        "getUser", "getInstallation", "saveUser", "fetchUser", "fetchInstallation", "personalize",
        "depersonalize", "setInstallationAsPrimary", "depersonalizeInstallation", "cleanup", "setUserDataJwt",
        "noSuchMethod", "", "rpc.discover",
    ]
    private static let oddIDs = [
        "0", "-0", "1.50", "1e3", "-1E-7", "123456789012345678901234567890", "1e400", "-1e400", #""""#,
        #""\u0000""#, #""é😀""#, #""\ud83d\ude00""#, "null", "true", "{}", "[]", #"{"a":1}"#, "[1]",
    ]
    private static let params = [
        "[]", "{}", #"[{"firstName":"Ada"}]"#, #"{"userData":{"firstName":"x","customAttributes":{"n":1e308}}}"#,
        #"["reg-1",true]"#, #"{"pushRegistrationId":"reg-1","primary":false}"#, #"["a","b","c","d"]"#, "1", #""x""#,
        "null", #"[null]"#, #"[{"userIdentity":{"externalUserId":"x"}}]"#, #"["eyJhbGciOiJIUzI1NiJ9.e30.sig"]"#,
    ]

    mutating func nextLine() -> [UInt8] {
        var line: [UInt8]
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<25: line = validRequest()
        case 25..<55: line = mutate(validRequest())
        case 55..<63: line = randomBytes(count: Int.random(in: 0...200, using: &random))
        case 63..<70: line = deepNesting()
        case 70..<80: line = batch()
        case 80..<86: line = Array(#"{"jsonrpc":"2.0","method":"\#(pick(Self.methods))","params":\#(pick(Self.params))}"#.utf8)
        case 86..<90: line = Array(#"{"jsonrpc":"2.0","id":\#(pick(Self.oddIDs)),"result":\#(pick(Self.params))}"#.utf8)
        case 90..<95: line = hugeNumbers()
        case 95..<99: line = Array(pick(["", " ", "\t", "\r", "null", "1", "\"x\"", "[]", "[1]", "{}", "[[]]", "\u{0}"]).utf8)
        default: line = overLong()
        }
        if Int.random(in: 0..<10, using: &random) == 0 { line.append(0x0D) }  // a \r\n ending
        return line
    }

    private mutating func pick<T>(_ options: [T]) -> T { options[Int.random(in: 0..<options.count, using: &random)] }

    private mutating func nextID() -> String {
        counter += 1
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return String(counter)
        case 1: return #""fuzz-\#(counter)""#
        case 2: return "\(counter).50"
        default: return pick(Self.oddIDs)
        }
    }

    private mutating func validRequest() -> [UInt8] {
        var members = [#""jsonrpc":"2.0""#, #""method":"\#(pick(Self.methods.filter { $0 != "rpc.discover" }))""#, #""id":\#(nextID())"#]
        if Bool.random(using: &random) { members.append(#""params":\#(pick(Self.params))"#) }
        members.shuffle(using: &random)
        return Array(("{" + members.joined(separator: ",") + "}").utf8)
    }

    private mutating func randomBytes(count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    /// Bytewise mutations: flips, insertions (NUL, `\r`, invalid UTF-8, quotes, brackets),
    /// deletions, duplications and truncation.
    private mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            guard !bytes.isEmpty else { break }
            let at = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<6, using: &random) {
            case 0: bytes[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            case 1: bytes.insert(pick([0x00, 0x0D, 0xFF, 0xC0, 0xED, 0x80, 0x22, 0x5C, 0x5B, 0x7B, 0x2C, 0x0A]), at: at)
            case 2: bytes.remove(at: at)
            case 3:
                let end = min(bytes.count, at + Int.random(in: 1...16, using: &random))
                bytes.insert(contentsOf: bytes[at..<end], at: at)
            case 4: bytes.removeSubrange(at...)
            default: bytes.insert(contentsOf: Array(pick([#"\u0000"#, #"\ud800"#, "1e999", "-", "\u{2028}", #"":"#]).utf8), at: at)
            }
        }
        return bytes
    }

    private mutating func deepNesting() -> [UInt8] {
        let depth = pick([1, 10, 127, 128, 129, 200, 1000, 20_000])
        let (open, close) = Bool.random(using: &random) ? ("[", "]") : (#"{"a":"#, "}")
        let nested = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
        if Bool.random(using: &random) {
            return Array(#"{"jsonrpc":"2.0","method":"saveUser","params":[\#(nested)],"id":\#(nextID())}"#.utf8)
        }
        return Array(nested.utf8)
    }

    private mutating func batch() -> [UInt8] {
        let count = Int.random(in: 0...20, using: &random)
        var elements: [String] = []
        for _ in 0..<count {
            switch Int.random(in: 0..<6, using: &random) {
            case 0, 1: elements.append(String(decoding: validRequest(), as: UTF8.self))
            case 2: elements.append(#"{"jsonrpc":"2.0","method":"\#(pick(Self.methods))"}"#)
            case 3: elements.append(pick(["1", #""x""#, "{}", "[]", "null", #"{"jsonrpc":"1.0","method":"getUser","id":7}"#]))
            case 4: elements.append(#"{"jsonrpc":"2.0","id":\#(pick(Self.oddIDs)),"error":{"code":1,"message":"m"}}"#)
            default: elements.append(String(decoding: mutate(validRequest()), as: UTF8.self))
            }
        }
        return Array(("[" + elements.joined(separator: ",") + "]").utf8)
    }

    private mutating func hugeNumbers() -> [UInt8] {
        let digits = String(repeating: "9", count: Int.random(in: 20...5000, using: &random))
        let number = pick([digits, "-\(digits)", "1e\(digits)", "0.\(digits)", "\(digits).\(digits)e-\(digits)"])
        if Bool.random(using: &random) {
            return Array(#"{"jsonrpc":"2.0","method":"getUser","id":\#(number)}"#.utf8)
        }
        return Array(#"{"jsonrpc":"2.0","method":"setInstallationAsPrimary","params":[\#(number),\#(number)],"id":\#(nextID())}"#.utf8)
    }

    private mutating func overLong() -> [UInt8] {
        let filler = String(repeating: "x", count: BlackBoxFuzzTests.maxLineBytes + Int.random(in: -2...100, using: &random))
        return Array(#"{"jsonrpc":"2.0","method":"getUser","params":["\#(filler)"],"id":\#(nextID())}"#.utf8)
    }
}
