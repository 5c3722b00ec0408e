#if canImport(FoundationEssentials)
    import FoundationEssentials  // not all of Foundation: mmcore starts at every app launch
#else
    import Foundation
#endif

/// The current time in seconds since the epoch, injectable so tests can decide when a
/// token expires.
public struct WallClock: Sendable {
    private let read: @Sendable () -> Double

    public init(_ read: @escaping @Sendable () -> Double) {
        self.read = read
    }

    public var now: Double { read() }

    public static let system = WallClock { Date().timeIntervalSince1970 }
}

/// The monotonic time that `Retry-After` windows are measured on, injectable so tests
/// can hold a window open however slow the machine is.
public struct MonotonicClock: Sendable {
    private let read: @Sendable () -> ContinuousClock.Instant

    public init(_ read: @escaping @Sendable () -> ContinuousClock.Instant) {
        self.read = read
    }

    public var now: ContinuousClock.Instant { read() }

    public static let system = MonotonicClock { ContinuousClock.now }
}
