import JSON
import Logging
import Synchronization
import UserDataJWT

@testable import MMCoreEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A value behind a mutex, for fakes called from several tasks: a class so that one
/// instance can be shared by closures (`Mutex` itself cannot be copied).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<T: Sendable>(_ body: (inout Value) throws -> T) rethrows -> T {
        try mutex.withLock { try body(&$0) }
    }

    var current: Value { withLock { $0 } }
}

/// Records every event the session emits.
final class EventRecorder: EventSink {
    private let events = Locked<[MobileMessagingEvent]>([])

    func emit(_ event: MobileMessagingEvent) {
        events.withLock { $0.append(event) }
    }

    var all: [MobileMessagingEvent] { events.current }

    func named(_ name: MobileMessagingEvent.Name) -> [MobileMessagingEvent] {
        all.filter { $0.name == name }
    }

    /// Waits (polling) until an event named `name` has been emitted `count` times.
    @discardableResult
    func wait(for name: MobileMessagingEvent.Name, count: Int = 1, timeout: Duration = .seconds(30)) async -> MobileMessagingEvent? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let matching = named(name)
            if matching.count >= count { return matching[count - 1] }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }
}

/// A settable clock.
/// Monotonic time that moves on with the real clock, plus whatever a test adds with
/// ``advance(by:)`` (so a `Retry-After` window stays open until the test says otherwise,
/// however slow the machine, as long as the test holds it with ``pause()``).
final class TestMonotonicClock: Sendable {
    private let state = Locked<(paused: ContinuousClock.Instant?, offset: Duration)>((nil, .zero))

    var clock: MonotonicClock {
        MonotonicClock { [state] in
            let (paused, offset) = state.current
            return (paused ?? ContinuousClock.now) + offset
        }
    }

    /// Stops time where it is.
    func pause() { state.withLock { $0.paused = ContinuousClock.now } }

    /// Moves time on by `duration` and lets it run again.
    func advance(by duration: Duration) {
        state.withLock { value in
            if let paused = value.paused { value.offset += paused + duration - ContinuousClock.now }
            value.paused = nil
        }
    }
}

final class TestClock: Sendable {
    let time: Locked<Double>
    init(_ now: Double = TokenFactory.now) { time = Locked(now) }
    var wallClock: WallClock { WallClock { [time] in time.current } }
}

/// Builds compact user-data JWTs as an app's backend would (unsigned: the client never
/// checks the signature).
enum TokenFactory {
    static let now: Double = 1_800_000_000

    static func part(_ value: JSONValue) -> String { Base64URL.encode(value.serializedBytes) }

    static func token(sub: String = "ada", exp: Double = now + 300) -> String {
        let header: JSONValue = ["alg": "HS256", "typ": "JWT", "kid": "key-1"]
        let claims: JSONValue = [
            "typ": "Bearer", "sub": .string(sub), "infobip-api-key": "app-1", "iat": .number(JSONNumber(now - 10)),
            "exp": .number(JSONNumber(exp)), "jti": "0b3f5a52-8d1e-4c59-9d7e-4f3e2f1a0c11",
        ]
        return "\(part(header)).\(part(claims)).c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
    }

    static var expired: String { token(exp: now - 60) }
}

/// A fresh directory under the system's temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/mmcore-tests-XXXXXX".utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(result != nil, "mkdtemp failed")
        path = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
    }

    /// A path inside that does not exist yet (so the store creates it).
    var stateDirectory: String { path + "/state" }

    func remove() {
        _ = runShell("rm -rf '\(path)'")
    }
}

@discardableResult
func runShell(_ command: String) -> Int32 {
    #if canImport(Glibc)
        return system(command)
    #else
        return 0
    #endif
}

func fileMode(_ path: String) -> mode_t? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return info.st_mode & 0o777
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

func readFile(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes.append(contentsOf: buffer[0..<count])
    }
    return bytes
}

func writeFile(_ path: String, _ text: String) {
    guard let file = fopen(path, "wb") else { return }
    _ = Array(text.utf8).withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
}

func listDirectory(_ path: String) -> [String] {
    guard let directory = opendir(path) else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

/// A logger that stays quiet unless a test fails loudly enough to need it.
let quietLogger: Logger = {
    var logger = Logger(label: "mobile-messaging-tests")
    logger.logLevel = .critical
    return logger
}()

extension JSONValue {
    init(parsing text: String) {
        self = try! JSONParser.parse(text)
    }
}

/// The error a throwing call threw, or `nil` when it returned.
func caught<T>(_ body: () async throws -> T) async -> (any Error)? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}

func caughtError<T>(_ body: () async throws -> T) async -> MobileMessagingError? {
    await caught(body) as? MobileMessagingError
}
