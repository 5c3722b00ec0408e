import Synchronization

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
