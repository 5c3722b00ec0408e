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
